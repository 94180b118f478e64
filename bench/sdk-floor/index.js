// The SDK floor: a program that registers what the real program registered for a stack (the engine stand-in's
// recording, bench/replay.ts, named by GEOPLATFORM_BENCH_REPLAY) with no program logic: the same resources, types,
// names, parents, dependencies, providers and input values, the same component and stack outputs and invokes, in the
// order the engine received them. Started exactly like bin/index.js, so what it costs over the empty program is the
// SDK's per-registration work (serialisation, protobuf, gRPC); what the real program costs over it is the program's.
// Plain JavaScript, as Pulumi runs it.
const fs = require("fs");
const pulumi = require("@pulumi/pulumi");
const rpc = require("@pulumi/pulumi/runtime/rpc");

module.exports = async () => {
    const recording = JSON.parse(fs.readFileSync(process.env.GEOPLATFORM_BENCH_REPLAY, "utf8"));
    const byUrn = new Map();
    const urnOf = (reference) => reference.split("::").slice(0, -1).join("::");
    // The wire form back into what a program passes: secrets, resource references and unknowns as the SDK's own.
    const value = (v) => {
        if (v === rpc.unknownValue) return pulumi.unknown;
        if (Array.isArray(v)) return v.map(value);
        if (v === null || typeof v !== "object") return v;
        const sig = v[rpc.specialSigKey];
        if (sig === rpc.specialSecretSig) return pulumi.secret(value(v.value));
        if (sig === rpc.specialResourceSig) return byUrn.get(v.urn) ?? v.urn;
        return Object.fromEntries(Object.entries(v).map(([key, item]) => [key, value(item)]));
    };
    let stack = {};
    for (const r of recording.registrations) {
        if (r.type === "pulumi:pulumi:Stack") continue; // cmd/run registers the stack itself
        const opts = {
            parent: byUrn.get(r.parent),
            dependsOn: r.dependencies.map((urn) => byUrn.get(urn)).filter(Boolean),
            provider: r.provider ? byUrn.get(urnOf(r.provider)) : undefined,
            version: r.version || undefined,
        };
        const inputs = value(r.inputs);
        const provider = r.type.startsWith("pulumi:providers:") ? r.type.slice("pulumi:providers:".length) : undefined;
        byUrn.set(
            r.urn,
            provider
                ? new pulumi.ProviderResource(provider, r.name, inputs, opts)
                : r.custom
                  ? new pulumi.CustomResource(r.type, r.name, inputs, opts)
                  : new pulumi.ComponentResource(r.type, r.name, {}, opts),
        );
    }
    for (const { urn, outputs } of recording.outputs) {
        if (byUrn.has(urn)) byUrn.get(urn).registerOutputs(value(outputs));
        else stack = value(outputs);
    }
    await Promise.all(recording.invokes.map((i) => pulumi.runtime.invoke(i.tok, value(i.args), { version: i.version || undefined })));
    return stack;
};
