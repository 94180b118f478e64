import * as assert from "assert";
import { createRequire } from "module";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { echoAnswer } from "../bench/echo";
import { mocks } from "./harness/run-stack";

// bench/engine.ts answers registrations of types without computed outputs with the request's own inputs
// (bench/echo.ts) instead of MockMonitor's round trip; the program must get the same answer either way, for the
// value kinds a preview sends: plain values, secrets, unknowns, nested lists and maps. A resource reference is the
// one difference: MockMonitor answers its id, the echo the reference, as an engine that supports references does.

const sdkRequire = createRequire(require.resolve("@pulumi/pulumi"));
const proto = path.join(path.dirname(require.resolve("@pulumi/pulumi")), "proto");
const resourcePb = sdkRequire(path.join(proto, "resource_pb.js"));
const { Struct } = sdkRequire("google-protobuf/google/protobuf/struct_pb");

const SIG = "4dabf18193072939515e22adb298388d";
const INPUTS = {
    metadata: { name: "cm", labels: { a: "b" } },
    data: { later: "04da6b54-80e4-46f7-96ec-b56ff0331ba9", n: 1.5, on: true, none: null },
    list: [1, "two", [3], { four: 4 }],
    password: { [SIG]: "1b47061264138c4ac30d75fd1eb44270", value: "hunter2" },
};
const REFERENCE = { [SIG]: "5cf8f73096256a8f31e491e813e4eb8e", urn: "urn:pulumi:dev::geoplatform::kubernetes:core/v1:Namespace::ns", id: "ns-id" };

function request(type: string, custom: boolean, inputs: Record<string, unknown> = INPUTS): any {
    return new resourcePb.RegisterResourceRequest()
        .setType(type)
        .setName("cm")
        .setParent("urn:pulumi:dev::geoplatform::pulumi:pulumi:Stack::geoplatform-dev")
        .setCustom(custom)
        .setObject(Struct.fromJavaScript(inputs));
}

const answered = (response: any) => ({ urn: response.getUrn(), id: response.getId(), object: response.getObject().toJavaScript() });

describe("bench engine: answers without MockMonitor's round trip", () => {
    let monitor: any;
    before(async () => {
        await pulumi.runtime.setMocks(mocks, "geoplatform", "dev", true);
        monitor = new MockMonitor(mocks);
    });

    for (const [type, custom] of [
        ["kubernetes:core/v1:ConfigMap", true],
        ["geoplatform:platform:Group", false],
    ] as const) {
        it(`answers a ${custom ? "custom resource" : "component"} as MockMonitor does`, async () => {
            const expected = await new Promise((resolve, reject) =>
                monitor.registerResource(request(type, custom), (error: Error | null, response: any) => (error ? reject(error) : resolve(answered(response)))),
            );
            assert.deepStrictEqual(answered(echoAnswer(request(type, custom), (...args) => monitor.newUrn(...args))), expected);
        });
    }

    it("answers a resource reference with the reference", () => {
        const answer = answered(echoAnswer(request("kubernetes:core/v1:ConfigMap", true, { owner: REFERENCE }), (...args) => monitor.newUrn(...args)));
        assert.deepStrictEqual(answer.object, { owner: REFERENCE });
    });

    it("leaves types with computed outputs to MockMonitor", () => {
        assert.strictEqual(
            echoAnswer(request("aws:ec2/instance:Instance", true), (...args) => monitor.newUrn(...args)),
            undefined,
        );
    });
});
