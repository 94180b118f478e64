import * as nodeModule from "module";
import * as path from "path";

// Preloaded before anything else: by Pulumi.yaml's `nodeargs` (`--require ./startup.js`, before the SDK's
// `cmd/run` loads) and by .mocharc.json for the tests. Measured in bench/results.md.

// Node's on-disk compile cache (Node 22.1 and later) for the thousand-odd modules `cmd/run` and the program load.
// It lives in $NODE_COMPILE_CACHE or the OS temp directory; Node < 22.1 has no such cache and starts as before. Its
// gain on a whole preview was within this machine's noise when measured (README, Performance), not 0.3-0.5 s.
(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();

/**
 * @pulumi/pulumi's runtime/debuggable.js `debuggablePromise` stores `new Error().stack` on every promise it wraps
 * (several per output property of every resource), and prints those stacks only when PULUMI_DEBUG_PROMISE_LEAKS is
 * set. Reading `.stack` runs Error.prepareStackTrace, which under Pulumi is source-map-support's mapper (`cmd/run`
 * registers it) and under mocha ts-node's: mapping every frame of those stacks was half of a preview's evaluation.
 */
export const SKIPPED_CAPTURE = { functionName: "debuggablePromise", file: /[\\/]@pulumi[\\/]pulumi[\\/]runtime[\\/]debuggable\.js$/ };

type Formatter = (error: Error, frames: NodeJS.CallSite[]) => unknown;

/** The SDK's leak-debugging capture: an Error without a message, created in debuggablePromise itself. */
function isSkippedCapture(error: Error, frames: NodeJS.CallSite[]): boolean {
    const top = frames[0];
    return error.message === "" && top?.getFunctionName() === SKIPPED_CAPTURE.functionName && SKIPPED_CAPTURE.file.test(top.getFileName() ?? "");
}

type DebuggableModule = { debuggablePromise?: (...args: unknown[]) => unknown };
const limited = new WeakSet<DebuggableModule>();

/**
 * Skipping the formatting leaves the capture itself, which walks up to Error.stackTraceLimit frames (mocha sets it to
 * Infinity). So on the first skipped capture of an SDK copy, its exported debuggablePromise (which the SDK's modules
 * call through the module object, `debuggable_1.debuggablePromise(...)`) is wrapped to run with a limit of 0: the
 * same header-only `_debugStackTrace`, and no frames walked. Should anything inside it throw, the call is repeated
 * with the normal limit, so that error carries every frame.
 */
function limitCaptures(file: string): void {
    const sdk = require.cache[file]?.exports as DebuggableModule | undefined;
    const original = sdk?.debuggablePromise;
    if (!sdk || limited.has(sdk) || typeof original !== "function") return;
    limited.add(sdk);
    sdk.debuggablePromise = function debuggablePromise(this: unknown, ...args: unknown[]) {
        const limit = Error.stackTraceLimit;
        Error.stackTraceLimit = 0;
        try {
            return original.apply(this, args);
        } catch {
            Error.stackTraceLimit = limit;
            return original.apply(this, args);
        } finally {
            Error.stackTraceLimit = limit;
        }
    };
}

const wrappers = new WeakMap<Formatter, Formatter>();
const wrapped = new WeakMap<Formatter, Formatter>();

/** `inner`, except that the SDK's leak-debugging captures get the header line only (no frames, nothing mapped). */
function skipping(inner: Formatter): Formatter {
    let wrapper = wrappers.get(inner);
    if (!wrapper) {
        wrapper = function prepareStackTrace(error, frames) {
            if (!isSkippedCapture(error, frames)) return inner(error, frames);
            limitCaptures(frames[0].getFileName() as string);
            return Error.prototype.toString.call(error);
        };
        wrappers.set(inner, wrapper);
        wrapped.set(wrapper, inner);
    }
    return wrapper;
}

/**
 * Error.prepareStackTrace becomes an accessor, because `cmd/run` installs source-map-support after this preload: the
 * setter keeps whatever formatter is installed last and the getter hands out that formatter wrapped. Code that saves
 * and restores the formatter gets its own back (a wrapper set again unwraps to the formatter it wraps). With no
 * formatter installed, the getter answers undefined and Node formats stacks as usual.
 */
function installSkippingFormatter(): void {
    let current = Error.prepareStackTrace as Formatter | undefined;
    Object.defineProperty(Error, "prepareStackTrace", {
        configurable: true,
        enumerable: false,
        get: () => (current ? skipping(current) : undefined),
        set: (formatter: Formatter | undefined) => {
            current = typeof formatter === "function" ? (wrapped.get(formatter) ?? formatter) : formatter;
        },
    });
}

// With PULUMI_DEBUG_PROMISE_LEAKS set the SDK prints these stacks, so they are left as they are.
if (!process.env.PULUMI_DEBUG_PROMISE_LEAKS) installSkippingFormatter();

/**
 * `@pulumi/pulumi`'s index requires runtime/index.js, which requires the closure serializer eagerly: @npmcli/arborist
 * (runtime/closure/codePaths.js, about 580 modules) and TypeScript (typescript-shim.js, from parseFunction.js). Only
 * `runtime.serializeFunction` and `runtime.computeCodePaths` use them (function serialization: dynamic providers,
 * callback functions), and this program calls neither. So each is entered in require.cache as a stand-in that
 * requires the real module on first use and forwards to it; `__esModule` is answered without loading, so that
 * TypeScript's `__importStar` in codePaths.js keeps the stand-in instead of copying (and so loading) its keys.
 * A module already loaded (TypeScript under ts-node, for the tests) is left alone.
 */
export const DEFERRED_MODULES = [
    { request: "@npmcli/arborist", from: "runtime/closure", requiredBy: "runtime/closure/codePaths.js" },
    { request: "typescript", from: ".", requiredBy: "typescript-shim.js" },
];

function defer(request: string, from: string): void {
    let file: string;
    try {
        file = require.resolve(request, { paths: [from] });
    } catch {
        return; // not installed where the SDK looks (typescript-shim then falls back to its vendored copy)
    }
    if (require.cache[file]) return;
    let real: object | undefined;
    const load = (): object => {
        if (real === undefined) {
            delete require.cache[file];
            real = nodeModule.createRequire(file)(file) as object;
        }
        return real;
    };
    const stub = new nodeModule.Module(file);
    stub.filename = file;
    stub.loaded = true;
    stub.exports = new Proxy(
        {},
        {
            get: (_, key) => (key === "__esModule" ? true : Reflect.get(load(), key)),
            has: (_, key) => Reflect.has(load(), key),
            ownKeys: () => Reflect.ownKeys(load()),
            getOwnPropertyDescriptor: (_, key) => {
                const descriptor = Reflect.getOwnPropertyDescriptor(load(), key);
                return descriptor && { ...descriptor, configurable: true };
            },
            set: (_, key, value) => Reflect.set(load(), key, value),
        },
    );
    require.cache[file] = stub;
}

const sdkRoot = (() => {
    try {
        return path.dirname(require.resolve("@pulumi/pulumi"));
    } catch {
        return undefined;
    }
})();
if (sdkRoot) for (const { request, from } of DEFERRED_MODULES) defer(request, path.join(sdkRoot, from));
