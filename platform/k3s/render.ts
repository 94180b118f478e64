import * as fs from "fs";
import * as path from "path";
import { Taint } from "../../config/types";
import { EtcdBackup, etcdBackupLines } from "./etcd-backup";

// Node scripts are plain files (shellcheck-clean, tested on their own); a
// command sends one to `sudo bash -s` on stdin, preceded by its inputs as
// shell assignments. stdin keeps values such as the token out of the command
// line and the process list, and sshd's AcceptEnv does not matter.

/** Directory of the .sh files, next to this module in the source tree and in bin/. */
function scriptsDir(): string {
    const candidates = [path.join(__dirname, "scripts"), path.resolve(__dirname, "../../../platform/k3s/scripts")];
    const found = candidates.find((dir) => fs.existsSync(path.join(dir, "install-k3s.sh")));
    if (!found) throw new Error(`K3s node scripts not found in ${candidates.join(" or ")}`);
    return found;
}

export type ScriptName =
    | "install-k3s"
    | "wait-ready"
    | "drain-node"
    | "read-kubeconfig"
    | "reconcile-node"
    | "check-version"
    | "roll-node"
    | "forget-node"
    | "configure-forwarder"
    | "restore-etcd";

export function shellQuote(value: string): string {
    return `'${value.replace(/'/g, `'"'"'`)}'`;
}

/** `# geoplatform: include <lib>` in a script: replaced by scripts/lib/<lib>.sh, code two scripts share. */
const INCLUDE = /^# geoplatform: include ([a-z-]+)$/gm;

/**
 * The script with its inputs assigned first and its includes in place. The body is one brace group:
 * bash reads all of it before running any of it, and its commands get
 * /dev/null as stdin, so a command that reads stdin (apt-get, an installer)
 * cannot swallow the rest of a script that `bash -s` is reading from stdin.
 */
export function renderScript(name: ScriptName, vars: Record<string, string>): string {
    const body = fs
        .readFileSync(path.join(scriptsDir(), `${name}.sh`), "utf8")
        .replace(INCLUDE, (_, lib: string) => fs.readFileSync(path.join(scriptsDir(), "lib", `${lib}.sh`), "utf8").trimEnd());
    const assignments = Object.entries(vars).map(([k, v]) => `${k}=${shellQuote(v)}`);
    return [...assignments, "{", body, "} </dev/null", ""].join("\n");
}

export interface K3sNodeConfig {
    role: "server" | "agent";
    /** Servers: the server token. Agents: the agent token. */
    token: string;
    /** Servers only: the token agents join with (K3s `agent-token`), the same on every server. */
    agentToken?: string;
    nodeName: string;
    nodeIp: string;
    /** The VM's cloud id, registered as the label INSTANCE_ID_LABEL: what tells this VM's Node from a predecessor's. */
    instanceId: string;
    /** https://<registration address>:6443 for every node but the first server. */
    server?: string;
    /** First server of an HA control plane: starts embedded etcd. */
    clusterInit: boolean;
    /** Extra names and addresses in the API server certificate (servers only). */
    tlsSans: string[];
    labels: Record<string, string>;
    taints: Taint[];
    /** Servers: scheduled etcd snapshots to the backup bucket (platform/k3s/etcd-backup.ts). */
    etcdBackup?: EtcdBackup;
}

/**
 * Set by K3s from `node-label` when the VM registers (and merged again at every K3s start): the VM's cloud id, so
 * forget-node.sh tells a predecessor's Node from this VM's by identity, not by address (an OpenStack replacement keeps
 * the address). AWS instance ids and OpenStack UUIDs are valid label values.
 */
export const INSTANCE_ID_LABEL = "geoplatform.io/instance-id";

/**
 * Kernel parameters the kubelet requires with `protect-kernel-defaults` (it exits at start if one differs): the four of
 * the K3s CIS hardening guide (k3s-io/docs docs/security/hardening-guide.md, "Set kernel parameters") and the two key
 * quotas the kubelet checks as well (kubernetes/kubernetes pkg/kubelet/cm/container_manager_linux.go,
 * setupKernelTunables; values in staging/src/k8s.io/component-helpers/node/util/sysctl/sysctl.go, v1.33).
 */
export const KERNEL_PARAMETERS: Record<string, string> = {
    "vm.panic_on_oom": "0",
    "vm.overcommit_memory": "1",
    "kernel.panic": "10",
    "kernel.panic_on_oops": "1",
    "kernel.keys.root_maxkeys": "1000000",
    "kernel.keys.root_maxbytes": "25000000",
};

/** /etc/sysctl.d/90-kubelet.conf on every node; install-k3s.sh applies it before K3s starts. */
export function sysctlConf(): string {
    const lines = Object.entries(KERNEL_PARAMETERS).map(([k, v]) => `${k}=${v}`);
    return ["# geoplatform: what the kubelet's protect-kernel-defaults requires (platform/k3s/render.ts)", ...lines, ""].join("\n");
}

/** Where install-k3s.sh puts the API server's admission and audit files on servers (the K3s CIS guide's paths). */
export const SERVER_FILES = {
    psa: "/var/lib/rancher/k3s/server/psa.yaml",
    auditPolicy: "/var/lib/rancher/k3s/server/audit.yaml",
    auditLog: "/var/lib/rancher/k3s/server/logs/audit.log",
};

/** Namespaces Pod Security admission skips: K3s's own CoreDNS and metrics-server run in kube-system, as the CIS guide has it. */
export const PSA_EXEMPT_NAMESPACES = ["kube-system"];

/**
 * The API server's admission configuration: Pod Security defaults for every namespace without labels (default,
 * kube-public, one made by hand) at restricted, as platform/namespaces.ts warns and audits everywhere; the platform's
 * namespaces carry their own enforce label, which overrides the default (the pack requires one on each).
 */
export function podSecurityAdmissionConfig(): string {
    return [
        "apiVersion: apiserver.config.k8s.io/v1",
        "kind: AdmissionConfiguration",
        "plugins:",
        "  - name: PodSecurity",
        "    configuration:",
        "      apiVersion: pod-security.admission.config.k8s.io/v1",
        "      kind: PodSecurityConfiguration",
        "      defaults:",
        ...["enforce", "audit", "warn"].flatMap((mode) => [`        ${mode}: "restricted"`, `        ${mode}-version: "latest"`]),
        "      exemptions:",
        "        usernames: []",
        "        runtimeClasses: []",
        `        namespaces: [${PSA_EXEMPT_NAMESPACES.map(yamlString).join(", ")}]`,
        "",
    ].join("\n");
}

/**
 * The API server's audit policy: every request at Metadata (who, what, when, the response code; never a body, so no
 * Secret's data reaches the log), once per request (RequestReceived omitted); the health probes not at all.
 */
export function auditPolicy(): string {
    return [
        "apiVersion: audit.k8s.io/v1",
        "kind: Policy",
        "omitStages:",
        "  - RequestReceived",
        "rules:",
        "  - level: None",
        '    nonResourceURLs: ["/healthz*", "/livez*", "/readyz*"]',
        "  - level: Metadata",
        "",
    ].join("\n");
}

/** The API server arguments of the CIS items: Pod Security admission config and the audit log, rotated (30 days, 10 files of 100 MB). */
export const CIS_APISERVER_ARGS = [
    `admission-control-config-file=${SERVER_FILES.psa}`,
    `audit-policy-file=${SERVER_FILES.auditPolicy}`,
    `audit-log-path=${SERVER_FILES.auditLog}`,
    "audit-log-maxage=30",
    "audit-log-maxbackup=10",
    "audit-log-maxsize=100",
];

/** Built-ins the platform layer replaces with its own pinned components. */
export const DISABLED_BUILTINS = ["traefik", "servicelb", "local-storage"];

const yamlString = (value: string) => JSON.stringify(value);
const yamlList = (key: string, items: string[]) => (items.length ? [`${key}:`, ...items.map((i) => `  - ${yamlString(i)}`)] : []);

/**
 * The part of a node's config whose change rolls it (roll-node.sh `CONFIG_ID`): without the tokens, which K3s leaves
 * out of its `k3s.io/node-config-hash` too (it redacts `--token` and `--agent-token` before hashing, k3s-io/k3s
 * pkg/nodeconfig/nodeconfig.go), and without the VM's id, which changes only with a new VM (a new Node, nothing to
 * drain: forget-node.sh handles its predecessor).
 */
export function redactedConfig(yaml: string): string {
    return yaml
        .split("\n")
        .filter((line) => !/^(token|agent-token):/.test(line) && !line.includes(`"${INSTANCE_ID_LABEL}=`))
        .join("\n");
}

/** /etc/rancher/k3s/config.yaml; every key is a K3s flag (server-only ones only on servers). */
export function k3sConfigYaml(node: K3sNodeConfig): string {
    const lines = [
        `token: ${yamlString(node.token)}`,
        `node-name: ${yamlString(node.nodeName)}`,
        `node-ip: ${yamlString(node.nodeIp)}`,
        ...(node.server ? [`server: ${yamlString(node.server)}`] : []),
        ...yamlList("node-label", [...Object.entries(node.labels).map(([k, v]) => `${k}=${v}`), `${INSTANCE_ID_LABEL}=${node.instanceId}`]),
        ...yamlList(
            "node-taint",
            node.taints.map((t) => `${t.key}=${t.value}:${t.effect}`),
        ),
        // CIS: the kubelet refuses to start on kernel parameters other than its defaults (install-k3s.sh sets them first).
        "protect-kernel-defaults: true",
    ];
    if (node.role === "server") {
        lines.push(
            ...(node.agentToken ? [`agent-token: ${yamlString(node.agentToken)}`] : []),
            ...(node.clusterInit ? ["cluster-init: true"] : []),
            ...yamlList("tls-san", node.tlsSans),
            ...yamlList("disable", DISABLED_BUILTINS),
            `write-kubeconfig-mode: "0600"`,
            "secrets-encryption: true",
            ...yamlList("kube-apiserver-arg", CIS_APISERVER_ARGS),
            ...etcdBackupLines(node.etcdBackup),
        );
    }
    return lines.join("\n") + "\n";
}
