import { ResourceValidationPolicy } from "@pulumi/policy";

/** What a Command sends besides its create string: only a command without any may skip the host-key check (a key read). */
const SENDS = ["stdin", "environment", "update", "delete"];

/**
 * @pulumi/command accepts any host key unless `hostKey` is set (pulumi/pulumi-command v1.2.1
 * provider/pkg/provider/remote/connection.go), so a Command without one sends its script, stdin and environment to
 * whoever answers on the address. Only the first contact with a VM, which reads its host key and sends nothing, may go
 * unpinned (infra/host-keys.ts, docs/security.md "SSH host keys"); a bastion hop is always pinned.
 */
export const sshHostKeysPinned: ResourceValidationPolicy = {
    name: "ssh-host-keys-pinned",
    description: "Remote Commands pin the host key of their host (connection.hostKey) and of the bastion hop (proxy.hostKey).",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (args.type !== "command:remote:Command") args.notApplicable("not a remote Command");
        const connection = args.props.connection ?? {};
        const pinned = (c: { hostKey?: unknown }) => typeof c.hostKey === "string" && c.hostKey.trim() !== "";
        const sent = SENDS.filter((field) => args.props[field] !== undefined && args.props[field] !== "");
        if (!pinned(connection) && sent.length > 0) {
            reportViolation(
                `${args.name} sends its ${sent.join(", ")} to ${connection.host ?? "its host"} without checking the host key. ` +
                    "Set connection.hostKey to the key the VM's first contact recorded (infra/host-keys.ts).",
            );
        }
        if (connection.proxy && !pinned(connection.proxy)) {
            reportViolation(
                `${args.name} goes through the bastion ${connection.proxy.host ?? ""} without checking its host key. Set connection.proxy.hostKey.`,
            );
        }
    },
};
