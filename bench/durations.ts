import { GraphNode } from "./graph";

// Typical wall-clock seconds for a resource to be created, from what these
// operations usually take (cloud consoles' and the charts' own readiness
// times); they weight the critical path, they are not measurements.

const BY_TYPE: Record<string, number> = {
    "aws:ec2/instance:Instance": 45, // running + status checks
    "aws:ec2/natGateway:NatGateway": 100,
    "aws:ec2/eip:Eip": 3,
    "aws:ec2/vpc:Vpc": 3,
    "openstack:compute/instance:Instance": 75, // boot from a new volume
    "openstack:networking/router:Router": 8,
    "openstack:networking/routerInterface:RouterInterface": 6,
    "openstack:networking/floatingIp:FloatingIp": 5,
    "kubernetes:core/v1:Namespace": 1,
    "kubernetes:core/v1:Secret": 1,
    "kubernetes:apps/v1:Deployment": 30, // Pulumi awaits rollout
    "kubernetes:apps/v1:StatefulSet": 45,
    "kubernetes:apps/v1:DaemonSet": 30,
    "kubernetes:batch/v1:Job": 40, // Pulumi awaits completion: image pulls, a download, the SQL
    "kubernetes:core/v1:PersistentVolumeClaim": 10, // Longhorn provisions and binds
};

/** Helm releases wait for their workloads to be ready (`helm.v3.Release` waits by default). */
const BY_CHART: Record<string, number> = {
    traefik: 40,
    "cert-manager": 60,
    longhorn: 180,
    minio: 60,
    "cloudnative-pg": 45,
    keycloakx: 150,
    "kube-prometheus-stack": 180,
    jupyterhub: 120,
    "spark-operator": 45,
    sparkapplication: 60,
    "argo-workflows": 60,
};

/** remote.Command durations by what the command does (matched on its resource name). */
const COMMANDS: [RegExp, number][] = [
    [/-k3s$/, 120], // waits for cloud-init, installs iSCSI packages, installs and starts K3s
    [/-nodes-ready$/, 30],
    [/-kubeconfig$/, 3],
    [/-k3s-drain$/, 2], // created as a no-op; the work happens on delete
    [/-reconcile$/, 5], // a few kubectl calls on the first server
    [/-k3s-roll-before$/, 2], // on creation: the node does not exist yet
    [/-k3s-forget$/, 2], // on creation: no Node of that name yet
    [/-k3s-roll-after$/, 30], // waits for the new node to be Ready
];

export function typicalSeconds(node: GraphNode, inputs: Record<string, any>): number {
    if (node.type === "kubernetes:helm.sh/v3:Release") return BY_CHART[inputs.chart] ?? 60;
    if (node.type === "command:remote:Command") {
        const name = node.urn.split("::").pop() ?? "";
        return COMMANDS.find(([pattern]) => pattern.test(name))?.[1] ?? 10;
    }
    if (BY_TYPE[node.type] !== undefined) return BY_TYPE[node.type];
    // Components and providers take no time; other API objects take about a second.
    if (node.type.startsWith("geoplatform:") || node.type.startsWith("pulumi:")) return 0;
    return 2;
}
