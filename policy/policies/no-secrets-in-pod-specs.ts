import { ResourceValidationPolicy } from "@pulumi/policy";
import { RELEASE, SECRET } from "./common";
import { secretAssignment, secretsInArgs } from "./secret-values";

const ARG_KEYS = ["args", "command", "arguments"];

/** Where in `value` a container env entry or argument list carries a literal secret, with why. */
export function podSpecSecrets(value: unknown, path = ""): string[] {
    if (Array.isArray(value)) return value.flatMap((v, i) => podSpecSecrets(v, `${path}[${i}]`));
    if (!value || typeof value !== "object") return [];
    return Object.entries(value as Record<string, unknown>).flatMap(([key, v]) => {
        const p = path ? `${path}.${key}` : key;
        if (key === "env" && Array.isArray(v)) {
            return v.flatMap((e, i) => {
                const reason = e && typeof e.name === "string" && typeof e.value === "string" ? secretAssignment(e.name, e.value) : undefined;
                return reason ? [`${p}[${i}] (${reason})`] : [];
            });
        }
        if (ARG_KEYS.includes(key) && Array.isArray(v) && v.every((a) => typeof a === "string")) {
            return secretsInArgs(v as string[]).map((reason) => `${p} (${reason})`);
        }
        return podSpecSecrets(v, p);
    });
}

/** An env value or an argument is readable by anyone who can read the object, and lands in logs and process lists. */
export const noSecretsInPodSpecs: ResourceValidationPolicy = {
    name: "no-secrets-in-pod-specs",
    description: "No password, token or key as a literal container env value or argument (workloads, custom resources, Release values).",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (args.type === SECRET || !args.type.startsWith("kubernetes:") || args.type.startsWith("pulumi:providers")) {
            args.notApplicable("not a Kubernetes object that can carry a pod spec");
        }
        const document = args.type === RELEASE ? args.props.values : args.props;
        for (const where of podSpecSecrets(document)) {
            reportViolation(
                `${args.name} holds a secret at ${where}. Put it in a Secret and use env valueFrom.secretKeyRef (an argument can then read $(VAR)).`,
            );
        }
    },
};
