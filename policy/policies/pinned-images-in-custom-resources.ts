import { ResourceValidationPolicy } from "@pulumi/policy";
import { RELEASE } from "./common";
import { isPinnedImage } from "./pinned-images";

/** A custom resource: a Kubernetes type whose API group is neither built in (core, *.k8s.io, apps, batch...) nor Helm's. */
export function isCustomResource(type: string): boolean {
    const m = /^kubernetes:([^/]+)\/[^:]+:/.exec(type);
    if (!m || type === RELEASE) return false;
    const group = m[1];
    return group.includes(".") && !group.endsWith(".k8s.io") && group !== "helm.sh";
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
            if (!isPinnedImage(image)) reportViolation(`${args.name} runs ${image || "an empty image"} at ${path}. Pin a version tag (or digest) in config/catalog.ts.`);
        }
    },
};
