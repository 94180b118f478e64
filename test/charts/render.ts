import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { chartArchive, ChartEntry } from "../../config/catalog";
import { helm } from "../../scripts/helm";
import { releaseEntry } from "../harness/releases";
import { RecordedResource, StackRun } from "../harness/run-stack";
import { readStackFile, REPO_ROOT } from "../harness/stack-config";

// Renders the program's Helm releases with the real helm and the archives of
// `npm run charts`, exactly as the provider would install them: the values of
// the mocked run, the cluster's Kubernetes version, the CRDs' API versions.

export const RELEASE = "kubernetes:helm.sh/v3:Release";

export interface ReleaseInput {
    stack: string;
    /** The recorded Release (resource name, URN). */
    resource: RecordedResource;
    entry: ChartEntry;
    /** Helm's release name. */
    name: string;
    namespace: string;
    values: Record<string, unknown>;
    archive: string;
    /** The Release's post-renderer, resolved from the provider's working directory. */
    postrender?: string;
}

/** Where the provider runs, and resolves a Release's relative chart and postrender paths: the directory of Pulumi.yaml's main (platform/release.ts). */
export function providerCwd(): string {
    const main = (yaml.load(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), "utf8")) as { main: string }).main;
    return path.join(REPO_ROOT, path.dirname(main));
}

/** Every Release of a mocked run, with its cached archive (which must exist: `npm run charts`). */
export function releasesOf(run: StackRun): ReleaseInput[] {
    return run.resources
        .filter((r) => r.type === RELEASE)
        .map((r) => {
            const entry = releaseEntry(r);
            const archive = path.join(REPO_ROOT, chartArchive(entry));
            if (!fs.existsSync(archive)) throw new Error(`${archive} is missing: run \`npm run charts\` first (GEOPLATFORM_CHART_MIRROR=<folder> offline)`);
            const postrender = r.inputs.postrender ? path.resolve(providerCwd(), r.inputs.postrender) : undefined;
            return {
                stack: run.stack,
                resource: r,
                entry,
                name: r.inputs.name,
                namespace: r.inputs.namespace,
                values: r.inputs.values ?? {},
                archive,
                postrender,
            };
        });
}

/**
 * The version the K3s API server reports (`v1.33.5+k3s1` for K3s v1.33.5+k3s1:
 * K3s versions are the Kubernetes version plus a `+k3sN` build suffix), as
 * `helm template --kube-version` takes it for `.Capabilities.KubeVersion`.
 */
export function kubeVersion(stack: string): string {
    const k3s = String(readStackFile(stack)["geoplatform:k3sVersion"]);
    if (!/^v1\.\d+\.\d+\+k3s\d+$/.test(k3s)) throw new Error(`geoplatform:k3sVersion ${k3s} of ${stack} is not a K3s release tag such as v1.33.5+k3s1`);
    return k3s;
}

/** A tiny semaphore: helm renders share 2 cores with everything else. */
function limiter(max: number): <T>(job: () => Promise<T>) => Promise<T> {
    let active = 0;
    const queue: (() => void)[] = [];
    return async (job) => {
        if (active >= max) await new Promise<void>((resolve) => queue.push(resolve));
        active++;
        try {
            return await job();
        } finally {
            active--;
            queue.shift()?.();
        }
    };
}
const limit = limiter(2);

export type K8sObject = { apiVersion: string; kind: string; metadata: Record<string, any>; [k: string]: any };

export interface RenderOptions {
    kubeVersion: string;
    apiVersions: string[];
    /** Also the charts' crds/ folders (helm installs them; they do not depend on values). */
    includeCrds?: boolean;
}

const renders = new Map<string, Promise<string>>();
/** `helm template` output, raw, once per distinct input in a process (stacks share releases). Test hooks are skipped: a Release never runs `helm test`. */
export function renderText(rel: ReleaseInput, values: Record<string, unknown>, options: RenderOptions): Promise<string> {
    const key = JSON.stringify([rel.archive, rel.name, rel.namespace, values, options.kubeVersion, options.apiVersions, !!options.includeCrds]);
    if (!renders.has(key)) renders.set(key, helmTemplate(rel, values, options));
    return renders.get(key) as Promise<string>;
}

async function helmTemplate(rel: ReleaseInput, values: Record<string, unknown>, options: RenderOptions): Promise<string> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "geoplatform-render-"));
    try {
        const file = path.join(dir, "values.json");
        fs.writeFileSync(file, JSON.stringify(values));
        const args = ["template", rel.name, rel.archive, "--namespace", rel.namespace, "--values", file, "--kube-version", options.kubeVersion, "--skip-tests"];
        for (const v of options.apiVersions) args.push("--api-versions", v);
        if (options.includeCrds) args.push("--include-crds");
        const text = await limit(() => helm(args));
        return rel.postrender ? postRender(text, rel.postrender) : text;
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/**
 * A render as the provider installs it with a Release's `postrender`: its Helm
 * v3 pipes the manifests through the executable but not the hooks, which it
 * sorts out before (helm v3.20.2 pkg/action/action.go renderResources:
 * SortManifests, then pr.Run on the non-hook manifests; only Helm 4, whose
 * `helm template --post-renderer` takes plugins only, post-renders hooks).
 */
export function postRender(text: string, executable: string): string {
    const chunks = text.split(/^(?=---[ \t]*\r?$)/m);
    const isHook = (chunk: string) => (yaml.loadAll(chunk) as any[]).some((d) => d?.metadata?.annotations?.["helm.sh/hook"] !== undefined);
    const manifests = chunks.filter((c) => !isHook(c)).join("");
    // stderr piped: the error carries it (the dead-key check expects refusals, which should not print).
    return (
        execFileSync(executable, [], { input: manifests, encoding: "utf8", maxBuffer: 256 * 1024 * 1024, stdio: ["pipe", "pipe", "pipe"] }) +
        chunks.filter(isHook).join("")
    );
}

export function parseObjects(text: string): K8sObject[] {
    return (yaml.loadAll(text) as (K8sObject | null)[]).filter((o): o is K8sObject => !!o && typeof o === "object" && !!o.kind);
}

export async function render(rel: ReleaseInput, values: Record<string, unknown>, options: RenderOptions): Promise<K8sObject[]> {
    return parseObjects(await renderText(rel, values, options));
}

/** `group/version` and `group/version/Kind` of every version a CRD serves, as `--api-versions` takes them. */
export function crdApiVersions(crds: K8sObject[]): string[] {
    return [
        ...new Set(
            crds.flatMap((crd) =>
                (crd.spec?.versions ?? [])
                    .filter((v: any) => v.served !== false)
                    .flatMap((v: any) => [`${crd.spec.group}/${v.name}`, `${crd.spec.group}/${v.name}/${crd.spec.names.kind}`]),
            ),
        ),
    ].sort();
}

/** Pulumi's type token for a Kubernetes object, as the policy pack matches it. */
export function typeToken(o: { apiVersion: string; kind: string }): string {
    const [group, version] = o.apiVersion.includes("/") ? o.apiVersion.split("/") : ["core", o.apiVersion];
    return `kubernetes:${group}/${version}:${o.kind}`;
}

export const objectId = (o: K8sObject) => `${o.kind}/${o.metadata?.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata?.name}`;
