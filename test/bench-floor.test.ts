import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { preview, SDK_FLOOR_PROGRAM } from "../bench/launch";
import { Recording } from "../bench/replay";

// The SDK floor (bench/sdk-floor) must send the engine what the program sent, or the bench's "program / SDK floor"
// compares different work. A recording in the wire form, with a provider, a component and its outputs, secrets,
// unknowns, a resource reference and dependencies, is replayed through the engine stand-in (bench/engine.ts, which
// records the replay in turn): both recordings must be the same.

const stackUrn = "urn:pulumi:dev::geoplatform::pulumi:pulumi:Stack::geoplatform-dev";
// As MockMonitor names them: the parent's type, then the resource's.
const urn = (type: string, name: string, parentType = "pulumi:pulumi:Stack") => `urn:pulumi:dev::geoplatform::${parentType}$${type}::${name}`;
const SIG = "4dabf18193072939515e22adb298388d";
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const provider = urn("pulumi:providers:kubernetes", "k8s");
const group = urn("geoplatform:test:Group", "group");
const config = urn("kubernetes:core/v1:ConfigMap", "config", "geoplatform:test:Group");
const registration = (fields: Partial<Recording["registrations"][number]> & { urn: string; type: string; name: string }) => ({
    custom: true,
    parent: stackUrn,
    dependencies: [],
    provider: "",
    version: "",
    inputs: {},
    ...fields,
});

const RECORDING: Recording = {
    registrations: [
        registration({ urn: stackUrn, type: "pulumi:pulumi:Stack", name: "geoplatform-dev", custom: false, parent: "" }),
        registration({
            urn: provider,
            type: "pulumi:providers:kubernetes",
            name: "k8s",
            inputs: { kubeconfig: { [SIG]: "1b47061264138c4ac30d75fd1eb44270", value: "k" } },
        }),
        registration({ urn: group, type: "geoplatform:test:Group", name: "group", custom: false }),
        registration({
            urn: config,
            type: "kubernetes:core/v1:ConfigMap",
            name: "config",
            parent: group,
            provider: `${provider}::k8s-id`,
            version: "4.34.2",
            inputs: { data: { a: "1", later: UNKNOWN }, list: [1, true, null] },
        }),
        registration({
            urn: urn("kubernetes:core/v1:Secret", "secret"),
            type: "kubernetes:core/v1:Secret",
            name: "secret",
            dependencies: [config],
            inputs: { owner: { [SIG]: "5cf8f73096256a8f31e491e813e4eb8e", urn: config, id: "config-id" } },
        }),
    ],
    outputs: [
        { urn: group, outputs: { name: "group" } },
        { urn: stackUrn, outputs: { endpoint: "https://example.test", password: { [SIG]: "1b47061264138c4ac30d75fd1eb44270", value: "p" } } },
    ],
    invokes: [{ tok: "openstack:networking/getNetwork:getNetwork", args: { name: "public" }, version: "" }],
};

/** The SDK sends independent registrations in whichever order their inputs resolve. */
function inArrivalIndependentOrder(recording: Recording): Recording {
    const byUrn = <T extends { urn: string }>(list: T[]) => [...list].sort((a, b) => a.urn.localeCompare(b.urn));
    return { ...recording, registrations: byUrn(recording.registrations), outputs: byUrn(recording.outputs) };
}

describe("bench: the SDK floor replays the program's registrations", function () {
    this.timeout(120000);

    it("sends the engine the same registrations, outputs and invokes", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "geoplatform-floor-"));
        try {
            const replay = path.join(dir, "program.json");
            const record = path.join(dir, "floor.json");
            fs.writeFileSync(replay, JSON.stringify(RECORDING));
            // Without bin/ (a fresh clone), so without its startup.js preload: what is sent does not depend on it.
            const run = await preview("dev", "floor", dir, { replay, record, nodeArgs: [], programDir: path.dirname(SDK_FLOOR_PROGRAM) });
            assert.strictEqual(run.registrations, RECORDING.registrations.length);
            assert.deepStrictEqual(inArrivalIndependentOrder(JSON.parse(fs.readFileSync(record, "utf8"))), inArrivalIndependentOrder(RECORDING));
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
