#!/usr/bin/env node
"use strict";
// Helm post-renderer of the Longhorn Release (platform/longhorn.ts): manifests on stdin, the same on stdout.
// Longhorn 1.12.1's hook Jobs take the manager DaemonSet's nodeSelector (templates/{pre,post}upgrade-job.yaml,
// uninstall-job.yaml, daemonset-sa.yaml: `default .Values.global.nodeSelector .Values.longhornManager.nodeSelector`),
// so the values pin longhornManager to `system` and this script takes the pin back off the DaemonSet alone: the
// manager must run on every node, processing included. Hooks are left as rendered, and the provider's Helm v3 never
// sends them here anyway (helm v3.20.2 pkg/action/action.go renderResources post-renders the non-hook manifests only).
// Every other document is passed through byte for byte. docs/platform.md has the details.
const fs = require("fs");
const yaml = require("js-yaml");

const LABEL = "geoplatform.io/node-group";
const GROUP = "system";
const MANAGER = { kind: "DaemonSet", name: "longhorn-manager" };

function isManager(doc) {
    return !!doc && doc.kind === MANAGER.kind && doc.metadata?.name === MANAGER.name && !doc.metadata?.annotations?.["helm.sh/hook"];
}

/** The stream with the manager DaemonSet's node-group selector removed; throws unless exactly one manager pinned to `system` is found. */
function unpinManager(text) {
    // Chunks start at each `---` line (a column-0 marker always ends a YAML document, even after a block scalar).
    const chunks = text.split(/^(?=---[ \t]*\r?$)/m);
    let found = 0;
    const out = chunks.map((chunk) => {
        const docs = yaml.loadAll(chunk);
        if (!docs.some(isManager)) return chunk;
        if (docs.length !== 1) throw new Error(`a ${MANAGER.kind} ${MANAGER.name} shares its chunk with other documents`);
        found++;
        const doc = docs[0];
        const selector = doc.spec?.template?.spec?.nodeSelector;
        if (selector?.[LABEL] !== GROUP)
            throw new Error(
                `${MANAGER.kind} ${MANAGER.name} has nodeSelector ${JSON.stringify(selector ?? null)}, expected ${LABEL}: ${GROUP} (longhornManager.nodeSelector in platform/longhorn.ts)`,
            );
        delete selector[LABEL];
        if (Object.keys(selector).length === 0) delete doc.spec.template.spec.nodeSelector;
        // Keep the marker and Helm's `# Source:` comment lines.
        const head = chunk.match(/^---[^\n]*\n(?:[ \t]*#[^\n]*\n)*/)?.[0] ?? "---\n";
        return head + yaml.dump(doc, { lineWidth: -1, noRefs: true });
    });
    if (found !== 1) throw new Error(`expected one ${MANAGER.kind} ${MANAGER.name} in the rendered Longhorn chart, found ${found}`);
    return out.join("");
}

if (require.main === module) {
    try {
        process.stdout.write(unpinManager(fs.readFileSync(0, "utf8")));
    } catch (e) {
        process.stderr.write(`longhorn-manager post-renderer: ${e.message}\n`);
        process.exit(1);
    }
}

module.exports = { unpinManager };
