import { ResourceValidationPolicy } from "@pulumi/policy";
import { containersOf, podSpecOf, WORKLOAD_TYPES } from "./common";

/**
 * The node agents that legitimately need the host, by namespace and workload name (as their
 * charts name them): Longhorn's manager and CSI plugin (mounts, iSCSI) and the node exporter
 * (host /proc, /sys, network). Everything else in those namespaces is checked like any workload.
 */
export const HOST_ACCESS_ALLOWED: { namespace: string; name: RegExp }[] = [
    // The node agents (iSCSI, mounts), and the chart's pre-upgrade hook, which reads the host's /proc to check the nodes before an upgrade (longhorn 1.12.1 templates/preupgrade-job.yaml).
    { namespace: "longhorn-system", name: /^(longhorn-manager|longhorn-csi-plugin|engine-image-ei-[0-9a-f]+|longhorn-pre-upgrade)$/ },
    { namespace: "monitoring", name: /(^|-)prometheus-node-exporter$/ },
    // Spot nodes (AWS): IMDS mode needs the host network to reach the metadata service with a hop limit of 1, and reads the host's /proc/uptime (aws-node-termination-handler 0.27.6 templates/daemonset.linux.yaml).
    { namespace: "kube-system", name: /^aws-node-termination-handler$/ },
];

/** A privileged or host-namespace pod owns its node. */
export const noHostAccess: ResourceValidationPolicy = {
    name: "no-host-access",
    description: "No privileged containers, host namespaces or hostPath volumes, except Longhorn's node agents and the node exporter.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (!WORKLOAD_TYPES.includes(args.type)) args.notApplicable("not a workload");
        const namespace = args.props.metadata?.namespace;
        const name = args.props.metadata?.name ?? args.name;
        if (HOST_ACCESS_ALLOWED.some((a) => a.namespace === namespace && a.name.test(name))) return;
        const spec = podSpecOf(args.type, args.props) ?? {};
        const fix = "Drop it, or allow-list this workload by namespace and name (policy/policies/no-host-access.ts) with a reason.";
        for (const field of ["hostNetwork", "hostPID", "hostIPC"]) {
            if (spec[field] === true) reportViolation(`${args.name} sets ${field}. ${fix}`);
        }
        for (const volume of spec.volumes ?? []) {
            if (volume.hostPath) reportViolation(`${args.name} mounts hostPath ${volume.hostPath.path} (volume ${volume.name}). ${fix}`);
        }
        for (const container of containersOf(spec)) {
            if (container.securityContext?.privileged === true) reportViolation(`Container ${container.name} of ${args.name} is privileged. ${fix}`);
        }
    },
};
