import { createRequire } from "module";
import * as path from "path";
import { RESOURCE_OUTPUTS } from "../test/harness/mock-outputs";

// The SDK's own message classes, as bench/engine.ts serves them.
const sdkRequire = createRequire(require.resolve("@pulumi/pulumi"));
const resourcePb = sdkRequire(path.join(path.dirname(require.resolve("@pulumi/pulumi")), "proto", "resource_pb.js"));

/**
 * MockMonitor's answer to a registration, without its work, for a type the mocks compute no outputs for: their
 * state is then the inputs (run-stack's `mocks`), which MockMonitor deserializes and serializes again, so the
 * request's own Struct is the answer. One difference: MockMonitor answers a resource reference with its id, this the
 * reference, as an engine that supports references (getDeploymentInfo says this one does) answers it; the program
 * sends none today. Undefined for the types with computed outputs, which MockMonitor answers.
 */
export function echoAnswer(request: any, newUrn: (parent: string, type: string, name: string) => string): unknown {
    if (RESOURCE_OUTPUTS[request.getType()]) return undefined;
    return new resourcePb.RegisterResourceResponse()
        .setUrn(newUrn(request.getParent(), request.getType(), request.getName()))
        .setId(request.getCustom() ? `${request.getName()}-id` : "")
        .setObject(request.getObject());
}
