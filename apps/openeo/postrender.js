#!/usr/bin/env node
"use strict";
// Helm post-renderer of the openEO Release (apps/openeo/index.ts): manifests on stdin, the same on stdout.
// The sparkapplication chart 1.3.1 templates `driver.affinity` and `executor.affinity` into its SparkApplication but
// no tolerations (templates/sparkapplication.yaml; only the unused "lite" Deployment reads .Values.tolerations), so
// its pods could never land on the tainted processing nodes the values send them to. This script adds the processing
// taint's toleration to spec.driver and spec.executor; the spark-operator's webhook copies them onto the pods
// (kubeflow/spark-operator v2.5.2 internal/webhook/sparkpod_defaulter.go addTolerations). It checks first that the
// chart's affinity really points at processing, so the two cannot drift apart. Every other document passes byte for byte.
const fs = require("fs");
const yaml = require("js-yaml");

const LABEL = "geoplatform.io/node-group";
const GROUP = "processing";
/** platform/placement.ts PROCESSING_TOLERATION, the one hard taint config validation allows on processing (a test checks they agree). */
const TOLERATION = { key: LABEL, operator: "Equal", value: GROUP, effect: "NoSchedule" };

const isSparkApp = (doc) => !!doc && doc.kind === "SparkApplication" && String(doc.apiVersion).startsWith("sparkoperator.k8s.io/");

function affinityGroups(role) {
    const terms = role?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
    return terms.flatMap((t) => (t.matchExpressions ?? []).filter((e) => e.key === LABEL && e.operator === "In").flatMap((e) => e.values));
}

/** The stream with the processing toleration on the SparkApplication's driver and executor; throws unless exactly one is found. */
function tolerateProcessing(text) {
    const chunks = text.split(/^(?=---[ \t]*\r?$)/m);
    let found = 0;
    const out = chunks.map((chunk) => {
        const docs = yaml.loadAll(chunk);
        if (!docs.some(isSparkApp)) return chunk;
        if (docs.length !== 1) throw new Error("a SparkApplication shares its chunk with other documents");
        found++;
        const doc = docs[0];
        for (const role of ["driver", "executor"]) {
            const spec = doc.spec?.[role];
            const groups = affinityGroups(spec);
            if (groups.length !== 1 || groups[0] !== GROUP)
                throw new Error(
                    `SparkApplication ${doc.metadata?.name} ${role} affinity selects ${JSON.stringify(groups)}, expected ${LABEL} In [${GROUP}] (apps/openeo/index.ts)`,
                );
            const tolerations = spec.tolerations ?? [];
            if (!tolerations.some((t) => t.key === TOLERATION.key && t.value === TOLERATION.value && t.effect === TOLERATION.effect))
                tolerations.push({ ...TOLERATION });
            spec.tolerations = tolerations;
        }
        const head = chunk.match(/^---[^\n]*\n(?:[ \t]*#[^\n]*\n)*/)?.[0] ?? "---\n";
        return head + yaml.dump(doc, { lineWidth: -1, noRefs: true });
    });
    if (found !== 1) throw new Error(`expected one SparkApplication in the rendered openEO chart, found ${found}`);
    return out.join("");
}

if (require.main === module) {
    try {
        process.stdout.write(tolerateProcessing(fs.readFileSync(0, "utf8")));
    } catch (e) {
        process.stderr.write(`openeo post-renderer: ${e.message}\n`);
        process.exit(1);
    }
}

module.exports = { tolerateProcessing, TOLERATION };
