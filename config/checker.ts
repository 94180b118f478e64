import { RunError } from "@pulumi/pulumi";

// A small reader for untyped config that collects every problem instead of
// stopping at the first, so a user fixes a stack file in one pass.

/** A RunError: Pulumi prints only its message, no stack trace (@pulumi/pulumi cmd/run's uncaught-error handler). */
export class ConfigError extends RunError {
    constructor(readonly problems: string[]) {
        super(
            `Invalid geoplatform stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
                problems.map((p) => `  - ${p}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

export function describe(value: unknown): string {
    if (value === undefined) return "nothing";
    const json = JSON.stringify(value);
    return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}

/** True when `key` is `other`, inside it (`a.b` in `a`, `a[0]` in `a`) or contains it. */
function related(key: string, other: string): boolean {
    const within = (inner: string, outer: string) => inner === outer || inner.startsWith(`${outer}.`) || inner.startsWith(`${outer}[`);
    return within(key, other) || within(other, key);
}

export class Checker {
    readonly problems: string[] = [];
    /** Keys whose value was refused: checks that build on them stay silent (one mistake, one message). */
    private readonly failedKeys: string[] = [];

    /** Records "<key>: got <value>, expected <expected>". */
    fail(key: string, value: unknown, expected: string): void {
        this.failedKeys.push(key);
        this.report(key, value, expected);
    }

    /** True when `key`, a key inside it or a key it lies in was refused. */
    failed(...keys: string[]): boolean {
        return keys.some((key) => this.failedKeys.some((f) => related(key, f)));
    }

    private report(key: string, value: unknown, expected: string): void {
        this.problems.push(`geoplatform:${key}: got ${describe(value)}, expected ${expected}`);
    }

    string(key: string, value: unknown, opts: { pattern?: RegExp; expected?: string; fallback?: string } = {}): string {
        if (value === undefined && opts.fallback !== undefined) return opts.fallback;
        if (typeof value !== "string" || value.length === 0 || (opts.pattern && !opts.pattern.test(value))) {
            this.fail(key, value, opts.expected ?? "a non-empty string");
            return "";
        }
        return value;
    }

    oneOf<T extends string>(key: string, value: unknown, allowed: readonly T[], fallback?: T): T {
        if (value === undefined && fallback !== undefined) return fallback;
        if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
            this.fail(key, value, `one of ${allowed.join(" | ")}`);
            return allowed[0];
        }
        return value as T;
    }

    integer(key: string, value: unknown, opts: { min: number; max?: number; fallback?: number }): number {
        if (value === undefined && opts.fallback !== undefined) return opts.fallback;
        const ok = typeof value === "number" && Number.isInteger(value) && value >= opts.min && (opts.max === undefined || value <= opts.max);
        if (!ok) {
            const range = opts.max === undefined ? `>= ${opts.min}` : `from ${opts.min} to ${opts.max}`;
            this.fail(key, value, `a whole number ${range}`);
            return opts.min;
        }
        return value as number;
    }

    boolean(key: string, value: unknown, fallback: boolean): boolean {
        if (value === undefined) return fallback;
        if (typeof value !== "boolean") {
            this.fail(key, value, "true or false");
            return fallback;
        }
        return value;
    }

    object(key: string, value: unknown, opts: { optional?: boolean } = {}): Record<string, unknown> {
        if (value === undefined && opts.optional) return {};
        if (typeof value !== "object" || value === null || Array.isArray(value)) {
            this.fail(key, value, "an object");
            return {};
        }
        return value as Record<string, unknown>;
    }

    array(key: string, value: unknown, opts: { optional?: boolean; minLength?: number } = {}): unknown[] {
        if (value === undefined && opts.optional) return [];
        if (!Array.isArray(value) || value.length < (opts.minLength ?? 0)) {
            this.fail(key, value, opts.minLength ? `a list of at least ${opts.minLength} item(s)` : "a list");
            return [];
        }
        return value;
    }

    stringMap(key: string, value: unknown, opts: { optional?: boolean } = {}): Record<string, string> {
        const obj = this.object(key, value, opts);
        const result: Record<string, string> = {};
        for (const [k, v] of Object.entries(obj)) result[k] = this.string(`${key}.${k}`, v);
        return result;
    }

    /** Reports keys that the schema does not know, which are usually typos (no value is read from them, so nothing builds on them). */
    noUnknownKeys(key: string, obj: Record<string, unknown>, known: readonly string[]): void {
        for (const k of Object.keys(obj)) {
            if (!known.includes(k)) this.report(key ? `${key}.${k}` : k, obj[k], `no such key (known keys: ${known.join(", ")})`);
        }
    }
}
