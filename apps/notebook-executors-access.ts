import * as k8s from "../platform/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
    HUB_ADMISSION_POLICY,
    HUB_EXECUTORS_CLUSTER_ROLE,
    HUB_EXECUTORS_RULES,
    HUB_SERVICE_ACCOUNT,
    HUB_SERVICE_ACCOUNTS_ROLE,
    HUB_SERVICE_ACCOUNTS_RULES,
    hubAdmissionPolicySpec,
} from "./notebook-executors-admission";
import { ExecutorObjects } from "./notebook-executors";

/**
 * The hub's rights for the per-user executor namespaces and the admission policy bounding them. The policy and its
 * binding come first: the hub's rights exist only once they are confined.
 */
export function hubExecutorsAccess(namespace: string, objects: ExecutorObjects, opts: pulumi.CustomResourceOptions): pulumi.Resource[] {
    const hub = { kind: "ServiceAccount", name: HUB_SERVICE_ACCOUNT, namespace };
    const policy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
        HUB_ADMISSION_POLICY,
        { metadata: { name: HUB_ADMISSION_POLICY }, spec: hubAdmissionPolicySpec(namespace, objects.networkPolicies) },
        opts,
    );
    const policyBinding = new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
        HUB_ADMISSION_POLICY,
        { metadata: { name: HUB_ADMISSION_POLICY }, spec: { policyName: policy.metadata.name, validationActions: ["Deny"] } },
        opts,
    );
    const confined = { ...opts, dependsOn: [...((opts.dependsOn as pulumi.Resource[]) ?? []), policy, policyBinding] };
    const clusterRole = new k8s.rbac.v1.ClusterRole(
        HUB_EXECUTORS_CLUSTER_ROLE,
        { metadata: { name: HUB_EXECUTORS_CLUSTER_ROLE }, rules: HUB_EXECUTORS_RULES },
        confined,
    );
    const clusterBinding = new k8s.rbac.v1.ClusterRoleBinding(
        HUB_EXECUTORS_CLUSTER_ROLE,
        {
            metadata: { name: HUB_EXECUTORS_CLUSTER_ROLE },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRole.metadata.name },
            subjects: [hub],
        },
        confined,
    );
    const role = new k8s.rbac.v1.Role(
        HUB_SERVICE_ACCOUNTS_ROLE,
        { metadata: { name: HUB_SERVICE_ACCOUNTS_ROLE, namespace }, rules: HUB_SERVICE_ACCOUNTS_RULES },
        confined,
    );
    const roleBinding = new k8s.rbac.v1.RoleBinding(
        HUB_SERVICE_ACCOUNTS_ROLE,
        {
            metadata: { name: HUB_SERVICE_ACCOUNTS_ROLE, namespace },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
            subjects: [hub],
        },
        confined,
    );
    return [policy, policyBinding, clusterRole, clusterBinding, role, roleBinding];
}
