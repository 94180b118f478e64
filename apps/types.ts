import * as pulumi from "@pulumi/pulumi";
import { AppName, GeoplatformConfig } from "../config/types";
import { secretEnv } from "../platform/secrets";
import { AppBinding, AppDatabase, AppObjectStorage, AppOidcClient, Platform } from "../platform/types";

/** What every app component is built from. */
export interface AppArgs {
    config: GeoplatformConfig;
    platform: Platform;
    binding: AppBinding;
}

/** The platform's shared job namespace; the apps that submit jobs need it. */
export function processingNamespaceOf(platform: Platform): string {
    if (!platform.processingNamespace) throw new Error("the platform prepared no processing namespace, but Spark or Argo is enabled");
    return platform.processingNamespace;
}

/** Options for an app's children: the platform's provider, and waiting for what the app's binding needs ready. */
export function childOptions(parent: pulumi.Resource, { platform, binding }: AppArgs, extra: pulumi.Resource[] = []): pulumi.CustomResourceOptions {
    return { parent, provider: platform.provider, dependsOn: [...binding.ready, ...extra] };
}

/** The binding of an enabled app; a missing one is a platform bug, reported before anything is registered. */
export function bindingOf(platform: Platform, app: AppName): AppBinding {
    const binding = platform.apps[app];
    if (!binding) throw new Error(`apps: ${app} is enabled but the platform provided no binding for it`);
    return binding;
}

function need<T>(app: AppName, what: string, value: T | undefined): T {
    if (value === undefined) throw new Error(`apps: ${app} needs a ${what} from the platform, but its binding has none`);
    return value;
}

export const needDatabase = (app: AppName, b: AppBinding): AppDatabase => need(app, "database", b.database);
export const needObjectStorage = (app: AppName, b: AppBinding): AppObjectStorage => need(app, "object-storage user", b.objectStorage);
export const needOidc = (app: AppName, b: AppBinding): AppOidcClient => need(app, "OIDC client", b.oidc);

/** A bucket of the app's object-storage user, by purpose. */
export function bucketFor(app: AppName, storage: AppObjectStorage, purpose: string): string {
    return need(app, `bucket for ${purpose}`, storage.buckets[purpose]);
}

export { secretEnv };

/** The object-storage Secret's keys as env vars (the names the AWS SDKs and Hadoop's S3A read). */
export function s3CredentialEnv(storage: AppObjectStorage) {
    return [
        secretEnv("AWS_ACCESS_KEY_ID", storage.secretName, "AWS_ACCESS_KEY_ID"),
        secretEnv("AWS_SECRET_ACCESS_KEY", storage.secretName, "AWS_SECRET_ACCESS_KEY"),
    ];
}

/** Container securityContext that Pod Security "restricted" asks for. */
export const RESTRICTED_CONTAINER = { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } };

/** Pod securityContext that Pod Security "restricted" asks for: a fixed non-root user, RuntimeDefault seccomp. */
export function restrictedPod(runAsUser: number, fsGroup?: number) {
    return { runAsNonRoot: true, runAsUser, ...(fsGroup === undefined ? {} : { fsGroup }), seccompProfile: { type: "RuntimeDefault" } };
}

/** Splits `name:tag` (the validated image format) for charts that take them apart. */
export function splitImage(image: string): { name: string; tag: string } {
    const at = image.lastIndexOf(":");
    return { name: image.slice(0, at), tag: image.slice(at + 1) };
}

/** Requests and limits for raw workloads. */
export function resources(cpu: string, memory: string, cpuLimit = cpu, memoryLimit = memory) {
    return { requests: { cpu, memory }, limits: { cpu: cpuLimit, memory: memoryLimit } };
}
