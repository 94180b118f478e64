// Findings inside the charts that test:charts knows and that are not fixed
// yet, each with the reason. The policy test fails on any other mandatory
// finding, and on a known one that no longer occurs (then delete it here).

export interface KnownFinding {
    policy: string;
    release: string;
    /** Rendered objects, as Kind/namespace/name. */
    objects: string[];
    why: string;
}

const RESOURCES = "chart containers without requests/limits in values yet: set each chart's resources keys (a larger change, listed in the issue-12 report)";

export const KNOWN_FINDINGS: KnownFinding[] = [
    {
        policy: "workload-resources",
        release: "longhorn",
        objects: [
            "DaemonSet/longhorn-system/longhorn-manager",
            "Deployment/longhorn-system/longhorn-driver-deployer",
            "Deployment/longhorn-system/longhorn-ui",
            "Job/longhorn-system/longhorn-post-upgrade",
            "Job/longhorn-system/longhorn-pre-upgrade",
            "Job/longhorn-system/longhorn-uninstall",
        ],
        why: RESOURCES,
    },
    {
        policy: "workload-resources",
        release: "jupyterhub",
        objects: [
            "DaemonSet/continuous-image-puller",
            "Deployment/hub",
            "Deployment/proxy",
            "Deployment/user-scheduler",
            "StatefulSet/user-placeholder",
            "DaemonSet/hook-image-puller",
            "Job/hook-image-awaiter",
        ],
        why: RESOURCES,
    },
];
