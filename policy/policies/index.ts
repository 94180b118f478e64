import { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { awsInstanceHardening } from "./aws-instance-hardening";
import { controlPlaneHa } from "./control-plane-ha";
import { ingressAuthentication } from "./ingress-authentication";
import { ingressTls } from "./ingress-tls";
import { loadBalancersOnlyForIngress } from "./load-balancers-only-for-ingress";
import { namespaceDefaultDeny } from "./namespace-default-deny";
import { namespacePodSecurity } from "./namespace-pod-security";
import { noHostAccess } from "./no-host-access";
import { noImdsFromPods } from "./no-imds-from-pods";
import { nodeGroupsExist } from "./node-groups-exist";
import { noPlaintextSecrets } from "./no-plaintext-secrets";
import { noSecretsInNodeScripts } from "./no-secrets-in-node-scripts";
import { noSecretsInPodSpecs } from "./no-secrets-in-pod-specs";
import { noSpotControlPlane } from "./no-spot-control-plane";
import { noWorldAdminPorts } from "./no-world-admin-ports";
import { noWorldAdminPortsInPieces } from "./no-world-admin-ports-in-pieces";
import { pinnedImages } from "./pinned-images";
import { pinnedImagesInCustomResources } from "./pinned-images-in-custom-resources";
import { pinnedReleases } from "./pinned-releases";
import { postgresHa } from "./postgres-ha";
import { publicAddressesOnlyAtEdge } from "./public-addresses-only-at-edge";
import { sshHostKeysPinned } from "./ssh-host-keys-pinned";
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
    noSecretsInPodSpecs,
    noSecretsInNodeScripts,
    pinnedImagesInCustomResources,
    ingressAuthentication,
    noImdsFromPods,
    sshHostKeysPinned,
];

export const stackPolicies: StackValidationPolicy[] = [controlPlaneHa, postgresHa, nodeGroupsExist, noWorldAdminPortsInPieces, namespaceDefaultDeny];

/** Every policy the pack serves, in the order it serves them. */
export const policies = [...resourcePolicies, ...stackPolicies];
