import { ResourceValidationPolicy } from "@pulumi/policy";
import { RELEASE, SECRET } from "./common";

/** Keys that name a secret value (and not a reference to one). */
const SECRET_KEY = /(password|passwd|secret|token|apikey|api_key|privatekey|private_key|credentials?)$/i;
const REFERENCE_KEY = /^(existing|secretName|secretRef|secretKeyRef)|(name|ref|key|secretname)$/i;
/** A Kubernetes object name: what a reference holds. */
const OBJECT_NAME = /^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/;
const PLACEHOLDER = /^\$\{[A-Z0-9_]+\}$/;
/**
 * Keys whose value is known not to be a secret: Helm's `checksum/<file>` pod annotations (a digest of a
 * rendered file) and cert-manager's CA-injection annotation (a `<namespace>/<name>` reference).
 */
const NOT_SECRET_KEY = /^(checksum\/.*|cert-manager\.io\/inject-ca-from-secret)$/;

/** Where in `value` a secret-looking key holds a literal that is neither empty, a reference nor a placeholder. */
export function plaintextSecretPaths(value: unknown, path = ""): string[] {
    if (Array.isArray(value)) return value.flatMap((v, i) => plaintextSecretPaths(v, `${path}[${i}]`));
    if (!value || typeof value !== "object") return [];
    return Object.entries(value as Record<string, unknown>).flatMap(([key, v]) => {
        const p = path ? `${path}.${key}` : key;
        if (
            typeof v === "string" &&
            SECRET_KEY.test(key) &&
            !REFERENCE_KEY.test(key) &&
            !NOT_SECRET_KEY.test(key) &&
            v !== "" &&
            !PLACEHOLDER.test(v) &&
            !(OBJECT_NAME.test(v) && /[-.]/.test(v))
        ) {
            return [p];
        }
        return plaintextSecretPaths(v, p);
    });
}

/** A value in Helm values or a manifest ends up readable in the release history and the API. */
export const noPlaintextSecrets: ResourceValidationPolicy = {
    name: "no-plaintext-secrets",
    description: "No password, token, secret or key in plain text in Release values or manifests (Secrets excepted).",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (args.type === SECRET || !args.type.startsWith("kubernetes:") || args.type.startsWith("pulumi:providers")) {
            args.notApplicable("not a Release or a non-Secret manifest");
        }
        const document = args.type === RELEASE ? args.props.values : args.props;
        for (const path of plaintextSecretPaths(document)) {
            reportViolation(
                `${args.name} holds a plain-text secret at ${path}. Put it in a Secret (from a random.RandomPassword) and reference it (existingSecret, secretKeyRef).`,
            );
        }
    },
};
