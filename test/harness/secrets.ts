import { SECRET_SENTINEL } from "./mock-outputs";
import { RecordedResource } from "./run-stack";

/** Paths of a resource's inputs where a mock secret appears although the engine got it in plain text. */
export function plainSecretPaths(resource: RecordedResource): string[] {
    const found: string[] = [];
    const isUnderSecret = (path: string) => resource.secretPaths.some((s) => path === s || path.startsWith(`${s}.`) || path.startsWith(`${s}[`));
    const walk = (value: unknown, path: string): void => {
        if (isUnderSecret(path)) return;
        if (typeof value === "string" && value.includes(SECRET_SENTINEL)) found.push(path);
        else if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${path}[${i}]`));
        else if (value && typeof value === "object") Object.entries(value).forEach(([k, v]) => walk(v, path ? `${path}.${k}` : k));
    };
    walk(resource.inputs, "");
    return found;
}

/** Every place, in any resource, where a mock secret reached the engine in plain text. */
export function plainSecretLeaks(resources: RecordedResource[]): string[] {
    return resources.flatMap((r) => plainSecretPaths(r).map((p) => `${r.type} ${r.name}: ${p}`));
}
