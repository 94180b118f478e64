import { createRequire } from "module";
import * as path from "path";
import type * as grpcTypes from "@grpc/grpc-js";
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { mocks } from "../test/harness/run-stack";
import { echoAnswer } from "./echo";
import { Recorder } from "./replay";

// A stand-in for the Pulumi engine that `pulumi preview` starts a program against: a real gRPC server with the
// ResourceMonitor and Engine services (pulumi/pulumi proto/pulumi/resource.proto, engine.proto, as compiled into
// @pulumi/pulumi/proto), behind which the SDK's own MockMonitor answers with the tests' mock outputs
// (test/harness/mock-outputs.ts through run-stack's `mocks`). One engine per program run, as one engine serves
// one `pulumi preview`. Registrations of types without computed outputs are answered without MockMonitor's
// deserialize/serialize round trip (bench/echo.ts), to keep this process's share of the shared cores small.
//
// Usage (a child of bench/index.ts): engine.ts <stack> [<record file>]. Prints {"address"} once serving; when stdin
// closes, prints what the program did ({"registrations", "errors"}) and the CPU time this process spent serving it
// ("cpuMs": it shares the machine's cores with the program), writes what the program sent (bench/replay.ts) to the
// record file if one is given, and exits.

// The SDK's own copies, so that the messages are the classes its client serializes.
const sdkRequire = createRequire(require.resolve("@pulumi/pulumi"));
const grpc = sdkRequire("@grpc/grpc-js") as typeof grpcTypes;
const proto = path.join(path.dirname(require.resolve("@pulumi/pulumi")), "proto");
const resourceRpc = sdkRequire(path.join(proto, "resource_grpc_pb.js"));
const resourcePb = sdkRequire(path.join(proto, "resource_pb.js"));
const engineRpc = sdkRequire(path.join(proto, "engine_grpc_pb.js"));
const enginePb = sdkRequire(path.join(proto, "engine_pb.js"));
const { Empty } = sdkRequire("google-protobuf/google/protobuf/empty_pb");

type Callback = (error: grpcTypes.ServiceError | null, response?: unknown) => void;
type Handler = (call: { request: any }, callback: Callback) => void;

async function main(): Promise<void> {
    const [stack, recordFile] = process.argv.slice(2);
    const recorder = recordFile ? new Recorder() : undefined;
    // MockMonitor names URNs after the SDK's stack and project settings; setMocks sets them (and nothing we serve
    // depends on its in-process monitor).
    await pulumi.runtime.setMocks(mocks, "geoplatform", stack, true);
    const monitor = new MockMonitor(mocks) as unknown as Record<string, (req: unknown, callback: Callback) => void> & {
        newUrn(parent: string, type: string, name: string): string;
    };
    let registrations = 0;
    const errors: string[] = [];
    let root = "";

    const served =
        (method: string, respond?: (response: any) => unknown): Handler =>
        (call, callback) =>
            monitor[method].call(monitor, call.request, (error, response) => callback(error, error ? undefined : respond ? respond(response) : response));
    const server = new grpc.Server();
    server.addService(resourceRpc.ResourceMonitorService, {
        getDeploymentInfo: served("getDeploymentInfo"),
        // MockMonitor answers these two with plain objects; gRPC needs the message classes.
        supportsFeature: served("supportsFeature", (r) => new resourcePb.SupportsFeatureResponse().setHassupport(r.getHassupport())),
        // MockMonitor would only store the outputs in its state, which nothing here reads.
        registerResourceOutputs: ((call, callback) => {
            recorder?.outputs(call.request);
            callback(null, new Empty());
        }) as Handler,
        registerResource: ((call, callback) => {
            registrations++;
            const answer = echoAnswer(call.request, (...args) => monitor.newUrn(...args)) as any;
            if (answer) {
                recorder?.resource(call.request, answer.getUrn());
                callback(null, answer);
                return;
            }
            served("registerResource", (response) => {
                recorder?.resource(call.request, response.getUrn());
                return response;
            })(call, callback);
        }) as Handler,
        readResource: served("readResource"),
        invoke: ((call, callback) => {
            recorder?.invoke(call.request);
            served("invoke")(call, callback);
        }) as Handler,
        registerStackTransform: served("registerStackTransform", () => new Empty()),
        registerStackInvokeTransform: served("registerStackInvokeTransform", () => new Empty()),
        registerPackage: served("registerPackage"),
        // The SDK signals the end of the program from cmd/run's beforeExit handler and waits for the answer.
        signalAndWaitForShutdown: ((_call, callback) => callback(null, new Empty())) as Handler,
    });
    server.addService(engineRpc.EngineService, {
        log: ((call, callback) => {
            if (call.request.getSeverity() === enginePb.LogSeverity.ERROR) errors.push(call.request.getMessage());
            callback(null, new Empty());
        }) as Handler,
        getRootResource: ((_call, callback) => callback(null, new enginePb.GetRootResourceResponse().setUrn(root))) as Handler,
        setRootResource: ((call, callback) => {
            root = call.request.getUrn();
            callback(null, new enginePb.SetRootResourceResponse());
        }) as Handler,
        requirePulumiVersion: ((_call, callback) => callback(null, new enginePb.RequirePulumiVersionResponse())) as Handler,
    });
    const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
    process.stdout.write(JSON.stringify({ address: `127.0.0.1:${port}` }) + "\n");
    const serving = process.cpuUsage();
    process.stdin.resume();
    process.stdin.on("end", () => {
        const { user, system } = process.cpuUsage(serving);
        recorder?.write(recordFile);
        process.stdout.write(JSON.stringify({ registrations, errors, cpuMs: (user + system) / 1000 }) + "\n");
        server.forceShutdown();
        process.exit(0);
    });
}

main().catch((error) => {
    console.error(error);
    process.exit(1);
});
