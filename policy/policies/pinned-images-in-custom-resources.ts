import { ResourceValidationPolicy } from "@pulumi/policy";
import { RELEASE } from "./common";
import { isPinnedImage } from "./pinned-images";

/** API groups Kubernetes serves itself; other groups with a dot are CRDs' (sparkoperator.k8s.io included). */
const BUILT_IN_GROUPS = [
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "apiregistration.k8s.io",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "certificates.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "events.k8s.io",
    "flowcontrol.apiserver.k8s.io",
    "networking.k8s.io",
    "node.k8s.io",
    "rbac.authorization.k8s.io",
    "resource.k8s.io",
    "scheduling.k8s.io",
    "storage.k8s.io",
    "helm.sh",
];

/** A custom resource: a Kubernetes type whose API group is not built in (core, apps, batch... have no dot). */
export function isCustomResource(type: string): boolean {
    const m = /^kubernetes:([^/]+)\/[^:]+:/.exec(type);
    if (!m || type === RELEASE) return false;
    return m[1].includes(".") && !BUILT_IN_GROUPS.includes(m[1]);
}

/** Every image reference in a document: `image`/`imageName` strings, and `image: {repository, tag}` objects. */
export function imageRefs(value: unknown, path = ""): { path: string; image: string }[] {
    if (Array.isArray(value)) return value.flatMap((v, i) => imageRefs(v, `${path}[${i}]`));
    if (!value || typeof value !== "object") return [];
    return Object.entries(value as Record<string, unknown>).flatMap(([key, v]) => {
        const p = path ? `${path}.${key}` : key;
        if ((key === "image" || key === "imageName") && typeof v === "string") return [{ path: p, image: v }];
        if (key === "image" && v && typeof v === "object" && typeof (v as any).repository === "string") {
            const { repository, tag, digest } = v as Record<string, string>;
            return [{ path: p, image: digest ? `${repository}@${digest}` : tag ? `${repository}:${tag}` : repository }];
        }
        return imageRefs(v, p);
    });
}

/** Operators start pods from images named in their custom resources (SparkApplication driver/executor, CNPG imageName...). */
export const pinnedImagesInCustomResources: ResourceValidationPolicy = {
    name: "pinned-images-in-custom-resources",
    description: "Images named anywhere in a custom resource's spec carry a tag other than latest (or a digest).",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (!isCustomResource(args.type)) args.notApplicable("not a custom resource");
        for (const { path, image } of imageRefs(args.props.spec, "spec")) {
            if (!isPinnedImage(image))
                reportViolation(`${args.name} runs ${image || "an empty image"} at ${path}. Pin a version tag (or digest) in config/catalog.ts.`);
        }
    },
};
