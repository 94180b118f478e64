import * as k8s from "../../platform/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { APP_VOLUMES_GB, CHARTS } from "../../config/catalog";
import { podPlacement } from "../placement";
import { AppArgs, childOptions, resources, RESTRICTED_CONTAINER, restrictedPod } from "../types";

const NAME = "zookeeper";
const LABELS = { "app.kubernetes.io/name": NAME };
const CLIENT_PORT = 2181;
/** ZOO_DATA_DIR of the official image; the persistent claim is mounted here. */
export const DATA_DIR = "/data";
export const DATALOG_DIR = `${DATA_DIR}/datalog`;

/** A single-member ZooKeeper (official image) holding openEO's job registry; returns its client address. */
export function zookeeper(parent: pulumi.Resource, args: AppArgs): { connect: string; resources: pulumi.Resource[] } {
    const { config, platform, binding } = args;
    const opts = childOptions(parent, args);
    const namespace = binding.namespace;
    const service = new k8s.core.v1.Service(
        NAME,
        {
            metadata: { name: NAME, namespace, labels: LABELS },
            spec: { clusterIP: "None", selector: LABELS, ports: [{ name: "client", port: CLIENT_PORT, targetPort: "client" }] },
        },
        opts,
    );
    const statefulSet = new k8s.apps.v1.StatefulSet(
        NAME,
        {
            metadata: { name: NAME, namespace, labels: LABELS },
            spec: {
                serviceName: NAME,
                replicas: 1,
                selector: { matchLabels: LABELS },
                template: {
                    metadata: { labels: LABELS },
                    spec: {
                        ...podPlacement(config, CHARTS.openeo.nodeGroup),
                        securityContext: restrictedPod(1000, 1000),
                        containers: [
                            {
                                name: NAME,
                                image: config.apps.openeo.zookeeperImage,
                                env: [
                                    { name: "ZOO_4LW_COMMANDS_WHITELIST", value: "ruok,srvr" },
                                    // Old snapshots and logs are purged hourly so the volume does not fill up.
                                    { name: "ZOO_AUTOPURGE_PURGEINTERVAL", value: "1" },
                                    // The image's entrypoint writes dataLogDir from this (default /datalog, off the claim):
                                    // the transaction log goes on the claim beside the snapshots, or a restart loses the
                                    // registry's writes since the last snapshot. ZooKeeper creates the folder (datadir.autocreate).
                                    { name: "ZOO_DATA_LOG_DIR", value: DATALOG_DIR },
                                ],
                                ports: [{ name: "client", containerPort: CLIENT_PORT }],
                                readinessProbe: { tcpSocket: { port: "client" }, periodSeconds: 10 },
                                resources: resources("100m", "512Mi", "1", "1Gi"),
                                securityContext: RESTRICTED_CONTAINER,
                                volumeMounts: [{ name: "data", mountPath: DATA_DIR }],
                            },
                        ],
                    },
                },
                volumeClaimTemplates: [
                    {
                        metadata: { name: "data" },
                        spec: {
                            accessModes: ["ReadWriteOnce"],
                            storageClassName: platform.storageClass,
                            resources: { requests: { storage: `${APP_VOLUMES_GB.zookeeper}Gi` } },
                        },
                    },
                ],
            },
        },
        { ...opts, dependsOn: [...(opts.dependsOn as pulumi.Resource[]), service] },
    );
    return { connect: `${NAME}.${namespace}.svc.cluster.local:${CLIENT_PORT}`, resources: [service, statefulSet] };
}
