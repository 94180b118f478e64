import { ResourceValidationPolicy } from "@pulumi/policy";
import { AWS_INSTANCE, OPENSTACK_INSTANCE } from "./common";
import { secretAssignment, secretsInScript } from "./secret-values";

const COMMANDS = ["command:remote:Command", "command:local:Command"];
const LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate";
/** `key: value` lines of cloud-init YAML (write_files contents, K3s config.yaml). */
const YAML_PAIR = /^\s*-?\s*([A-Za-z_][-A-Za-z0-9_]*):\s*["']?([^"'\s#][^"'#]*?)["']?\s*$/gm;

function userDataSecrets(text: string): string[] {
    const found = secretsInScript(text);
    for (const m of text.matchAll(YAML_PAIR)) {
        const reason = secretAssignment(m[1], m[2]);
        if (reason) found.push(reason);
    }
    return [...new Set(found)];
}

const decode = (b64: unknown) => (typeof b64 === "string" ? Buffer.from(b64, "base64").toString("utf8") : "");

/**
 * A Command's create/update/delete strings and environment are stored in the state and shown in
 * diffs and logs (environment also travels as SSH env requests); user data is readable from the
 * instance metadata service by anything on the node. Secrets go on a Command's stdin, or reach
 * a node from a secret store after boot.
 */
export const noSecretsInNodeScripts: ResourceValidationPolicy = {
    name: "no-secrets-in-node-scripts",
    description: "No token or password in a Command's create/update/delete or environment, nor in EC2/OpenStack user data.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        const found: string[] = [];
        if (COMMANDS.includes(args.type)) {
            for (const field of ["create", "update", "delete"]) {
                if (typeof args.props[field] === "string") found.push(...secretsInScript(args.props[field]).map((r) => `${field}: ${r}`));
            }
            for (const [name, value] of Object.entries((args.props.environment ?? {}) as Record<string, unknown>)) {
                const reason = typeof value === "string" ? secretAssignment(name, value) : undefined;
                if (reason) found.push(`environment: ${reason}`);
            }
        } else if (args.type === AWS_INSTANCE || args.type === OPENSTACK_INSTANCE || args.type === LAUNCH_TEMPLATE) {
            const text =
                typeof args.props.userData === "string"
                    ? args.type === LAUNCH_TEMPLATE
                        ? decode(args.props.userData)
                        : args.props.userData
                    : decode(args.props.userDataBase64);
            found.push(...userDataSecrets(text).map((r) => `user data: ${r}`));
        } else {
            args.notApplicable("neither a Command nor an instance");
        }
        for (const where of found) {
            reportViolation(
                `${args.name} carries a secret (${where}). Send it on the Command's stdin (as platform/k3s does), or have the node fetch it after boot; never inline it.`,
            );
        }
    },
};
