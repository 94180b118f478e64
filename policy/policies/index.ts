import { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { awsInstanceHardening } from "./aws-instance-hardening";
import { controlPlaneHa } from "./control-plane-ha";
import { ingressTls } from "./ingress-tls";
import { loadBalancersOnlyForIngress } from "./load-balancers-only-for-ingress";
import { namespacePodSecurity } from "./namespace-pod-security";
import { noHostAccess } from "./no-host-access";
import { nodeGroupsExist } from "./node-groups-exist";
import { noPlaintextSecrets } from "./no-plaintext-secrets";
import { noSpotControlPlane } from "./no-spot-control-plane";
import { noWorldAdminPorts } from "./no-world-admin-ports";
import { pinnedImages } from "./pinned-images";
import { pinnedReleases } from "./pinned-releases";
import { postgresHa } from "./postgres-ha";
import { publicAddressesOnlyAtEdge } from "./public-addresses-only-at-edge";
import { workloadResources } from "./workload-resources";
import { workloadsOnNodeGroups } from "./workloads-on-node-groups";

export const resourcePolicies: ResourceValidationPolicy[] = [
    noWorldAdminPorts,
    awsInstanceHardening,
    noSpotControlPlane,
    publicAddressesOnlyAtEdge,
    workloadsOnNodeGroups,
    workloadResources,
    pinnedImages,
    noHostAccess,
    pinnedReleases,
    loadBalancersOnlyForIngress,
    ingressTls,
    namespacePodSecurity,
    noPlaintextSecrets,
];

export const stackPolicies: StackValidationPolicy[] = [controlPlaneHa, postgresHa, nodeGroupsExist];

/** Every policy the pack serves, in the order it serves them. */
export const policies = [...resourcePolicies, ...stackPolicies];
