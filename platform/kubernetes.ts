// The parts of @pulumi/kubernetes the program uses, by sub-path. The package index requires every API group
// (about 130 modules, 0.5-0.85 s of each start, measured in README "Performance"); these few take milliseconds.
// Import `* as k8s from` this module wherever @pulumi/kubernetes would be imported.
export * as admissionregistration from "@pulumi/kubernetes/admissionregistration";
export * as apiextensions from "@pulumi/kubernetes/apiextensions";
export * as apps from "@pulumi/kubernetes/apps";
export * as batch from "@pulumi/kubernetes/batch";
export * as core from "@pulumi/kubernetes/core";
export * as helm from "@pulumi/kubernetes/helm";
export * as networking from "@pulumi/kubernetes/networking";
export * as rbac from "@pulumi/kubernetes/rbac";
export { Provider } from "@pulumi/kubernetes/provider";
export type * as types from "@pulumi/kubernetes/types";
