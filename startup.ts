import * as nodeModule from "module";

// Preloaded before anything else: by Pulumi.yaml's `nodeargs` (`--require ./startup.js`, before the SDK's
// `cmd/run` loads) and by .mocharc.json for the tests. Measured in bench/results.md.

// Node's on-disk compile cache (Node 22.1 and later) for the thousand-odd modules `cmd/run` and the program load.
// It lives in $NODE_COMPILE_CACHE or the OS temp directory; Node < 22.1 has no such cache and starts as before.
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

const wrappers = new WeakMap<Formatter, Formatter>();
const wrapped = new WeakMap<Formatter, Formatter>();

/** `inner`, except that the SDK's leak-debugging captures get the header line only (no frames, nothing mapped). */
function skipping(inner: Formatter): Formatter {
    let wrapper = wrappers.get(inner);
    if (!wrapper) {
        wrapper = function prepareStackTrace(error, frames) {
            return isSkippedCapture(error, frames) ? Error.prototype.toString.call(error) : inner(error, frames);
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
