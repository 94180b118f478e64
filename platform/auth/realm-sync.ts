import * as crypto from "crypto";
import * as k8s from "../kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PLATFORM_IMAGES } from "../../config/catalog";
import { SYSTEM } from "../placement";
import { secretEnv } from "../secrets";

export interface RealmSyncArgs {
    namespace: pulumi.Input<string>;
    /** The realm file (keycloak-config-cli JSON, `$(env:...)` placeholders only). */
    realmFile: string;
    /** In-cluster URL of Keycloak's HTTP service (no TLS hop, no public address). */
    keycloakUrl: string;
    /** Secret with the master realm's bootstrap admin (keys username, password). */
    adminSecret: string;
    /** Secrets whose keys become the Job's environment (the placeholders' values). */
    envSecrets: string[];
    /** Keycloak's release and the Secrets the Job reads. */
    dependsOn: pulumi.Resource[];
}

/** The Job's name: a hash of everything it applies, so a changed realm is a new Job (Pulumi replaces it; it runs again). */
export function realmSyncJobName(realmFile: string): string {
    const hash = crypto.createHash("sha256").update(realmFile).update(PLATFORM_IMAGES.keycloakConfigCli.tag).digest("hex").slice(0, 10);
    return `keycloak-realm-sync-${hash}`;
}

/**
 * Reconciles the realm on every `up` where it changed: keycloak-config-cli (adorsys/keycloak-config-cli) creates the realm or
 * updates it in place, clients, groups and users included, through Keycloak's admin API. The Pulumi provider awaits the Job's
 * Complete condition, so whatever needs the realm (a server reading the discovery document at start) waits for this.
 * Chosen over the Keycloak provider for Pulumi: that one needs Keycloak's admin API reachable from where `pulumi preview` runs
 * (laptops, PR previews in CI), which only the cluster reaches.
 */
export class RealmSync extends pulumi.ComponentResource {
    readonly job: k8s.batch.v1.Job;

    constructor(name: string, args: RealmSyncArgs, opts: pulumi.ComponentResourceOptions) {
        super("geoplatform:platform:RealmSync", name, {}, opts);
        const fileName = "geoplatform-realm.json";
        const realm = new k8s.core.v1.ConfigMap(
            "keycloak-realm",
            { metadata: { name: "keycloak-realm", namespace: args.namespace }, data: { [fileName]: args.realmFile } },
            { parent: this },
        );
        const jobName = realmSyncJobName(args.realmFile);
        this.job = new k8s.batch.v1.Job(
            "keycloak-realm-sync",
            {
                metadata: {
                    name: jobName,
                    namespace: args.namespace,
                    labels: { "app.kubernetes.io/name": "keycloak-realm-sync" },
                    // A Job that failed (Keycloak not up, a bad realm) is replaced by the next `up` instead of staying failed
                    // with the same name (pulumi/pulumi-kubernetes, annotation pulumi.com/replaceUnready).
                    annotations: { "pulumi.com/replaceUnready": "true" },
                },
                spec: {
                    backoffLimit: 3,
                    activeDeadlineSeconds: 900,
                    template: {
                        metadata: { labels: { "app.kubernetes.io/name": "keycloak-realm-sync" } },
                        spec: {
                            restartPolicy: "Never",
                            nodeSelector: SYSTEM,
                            automountServiceAccountToken: false,
                            securityContext: { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, seccompProfile: { type: "RuntimeDefault" } },
                            containers: [
                                {
                                    name: "keycloak-config-cli",
                                    image: `${PLATFORM_IMAGES.keycloakConfigCli.repository}:${PLATFORM_IMAGES.keycloakConfigCli.tag}`,
                                    env: [
                                        { name: "KEYCLOAK_URL", value: args.keycloakUrl },
                                        secretEnv("KEYCLOAK_USER", args.adminSecret, "username"),
                                        secretEnv("KEYCLOAK_PASSWORD", args.adminSecret, "password"),
                                        // Keycloak may still be starting (first install, upgrade): wait for it rather than fail.
                                        { name: "KEYCLOAK_AVAILABILITYCHECK_ENABLED", value: "true" },
                                        { name: "KEYCLOAK_AVAILABILITYCHECK_TIMEOUT", value: "300s" },
                                        { name: "IMPORT_FILES_LOCATIONS", value: `/config/${fileName}` },
                                        // $(env:NAME) placeholders; an undefined one fails the run (import.var-substitution.undefined-is-error, default true).
                                        { name: "IMPORT_VARSUBSTITUTION_ENABLED", value: "true" },
                                        { name: "JAVA_OPTS", value: "-Xmx256m -Djava.io.tmpdir=/tmp" },
                                    ],
                                    envFrom: args.envSecrets.map((name) => ({ secretRef: { name } })),
                                    resources: { requests: { cpu: "100m", memory: "384Mi" }, limits: { memory: "512Mi" } },
                                    securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
                                    volumeMounts: [
                                        { name: "realm", mountPath: "/config", readOnly: true },
                                        { name: "tmp", mountPath: "/tmp" },
                                    ],
                                },
                            ],
                            volumes: [
                                { name: "realm", configMap: { name: "keycloak-realm" } },
                                { name: "tmp", emptyDir: {} },
                            ],
                        },
                    },
                },
            },
            { parent: this, dependsOn: [realm, ...args.dependsOn], customTimeouts: { create: "20m", update: "20m" } },
        );
        this.registerOutputs({ job: jobName });
    }
}
