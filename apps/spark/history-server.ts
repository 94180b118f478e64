import * as k8s from "../../platform/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS } from "../../config/catalog";
import { tlsIngress } from "../ingress";
import { podPlacement } from "../placement";
import { AppArgs, bucketFor, childOptions, needObjectStorage, resources, RESTRICTED_CONTAINER, restrictedPod, s3CredentialEnv } from "../types";
import { asSparkProperties, renderSparkDefaults, s3aHadoopConf } from "./defaults";

const NAME = "spark-history";
const PORT = 18080;
const LABELS = { "app.kubernetes.io/name": NAME };
const CONF_DIR = "/opt/spark/conf-geoplatform";

/** The History Server's spark-defaults.conf: the event-log bucket the jobs write (platformSparkApplication), over S3A. */
export function historyServerConf(storage: Parameters<typeof s3aHadoopConf>[0], eventLogBucket: string): Record<string, string> {
    return { "spark.history.fs.logDirectory": `s3a://${eventLogBucket}/`, ...asSparkProperties(s3aHadoopConf(storage)) };
}

/** The Spark History Server, reading the event logs in the eventLogs bucket; UI at spark-history.<domain>. */
export function historyServer(parent: pulumi.Resource, args: AppArgs): void {
    const { config, platform, binding } = args;
    const storage = needObjectStorage("spark", binding);
    const opts = childOptions(parent, args);
    const namespace = binding.namespace;
    // HistoryServer.main loads SPARK_CONF_DIR/spark-defaults.conf (Utils.loadDefaultSparkProperties).
    const conf = new k8s.core.v1.ConfigMap(
        NAME,
        {
            metadata: { name: NAME, namespace },
            data: { "spark-defaults.conf": renderSparkDefaults(historyServerConf(storage, bucketFor("spark", storage, "eventLogs"))) },
        },
        opts,
    );

    const deployment = new k8s.apps.v1.Deployment(
        NAME,
        {
            metadata: { name: NAME, namespace, labels: LABELS },
            spec: {
                replicas: 1,
                selector: { matchLabels: LABELS },
                template: {
                    metadata: { labels: LABELS },
                    spec: {
                        ...podPlacement(config, CHARTS.sparkOperator.nodeGroup),
                        securityContext: restrictedPod(185),
                        containers: [
                            {
                                name: "history-server",
                                image: config.apps.spark.image,
                                command: ["/opt/spark/bin/spark-class", "org.apache.spark.deploy.history.HistoryServer"],
                                env: [...s3CredentialEnv(storage), { name: "SPARK_CONF_DIR", value: CONF_DIR }, { name: "SPARK_NO_DAEMONIZE", value: "true" }],
                                ports: [{ name: "http", containerPort: PORT }],
                                readinessProbe: { httpGet: { path: "/", port: "http" }, periodSeconds: 10 },
                                resources: resources("250m", "1Gi", "1", "2Gi"),
                                securityContext: RESTRICTED_CONTAINER,
                                volumeMounts: [{ name: "spark-conf", mountPath: CONF_DIR }],
                            },
                        ],
                        volumes: [{ name: "spark-conf", configMap: { name: conf.metadata.name } }],
                    },
                },
            },
        },
        opts,
    );
    const service = new k8s.core.v1.Service(
        NAME,
        { metadata: { name: NAME, namespace, labels: LABELS }, spec: { selector: LABELS, ports: [{ name: "http", port: PORT, targetPort: "http" }] } },
        { ...opts, dependsOn: [deployment] },
    );
    // No login of its own: behind the SSO gate, for any realm group member (platform/index.ts APP_NEEDS.spark.sso names this host).
    tlsIngress(
        NAME,
        { platform, namespace, service: NAME, backendService: service.metadata.name, backendPort: PORT, middlewares: platform.sso.middleware },
        opts,
    );
}
