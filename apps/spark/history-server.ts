import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS, IMAGES, S3A_JARS } from "../../config/catalog";
import { tlsIngress } from "../ingress";
import { podPlacement } from "../placement";
import { AppArgs, childOptions, needObjectStorage, resources, RESTRICTED_CONTAINER, restrictedPod, s3CredentialEnv } from "../types";

const NAME = "spark-history";
const PORT = 18080;
const LABELS = { "app.kubernetes.io/name": NAME };

/** The Spark History Server, reading the event logs in the eventLogs bucket; UI at spark-history.<domain>. */
export function historyServer(parent: pulumi.Resource, args: AppArgs, defaults: k8s.core.v1.ConfigMap): void {
    const { config, platform, binding } = args;
    const storage = needObjectStorage("spark", binding);
    const opts = childOptions(parent, args);
    const namespace = binding.namespace;
    const jarsDir = "/opt/s3a-jars";

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
                        // The stock Spark image has no S3A connector; fetch the pinned jars once per start.
                        initContainers: [
                            {
                                name: "fetch-s3a-jars",
                                image: IMAGES.curl,
                                command: ["sh", "-c", S3A_JARS.map((url) => `curl -fsSL -o ${jarsDir}/${url.split("/").pop()} ${url}`).join(" && ")],
                                volumeMounts: [{ name: "s3a-jars", mountPath: jarsDir }],
                                resources: resources("50m", "64Mi", "500m", "128Mi"),
                                securityContext: RESTRICTED_CONTAINER,
                            },
                        ],
                        containers: [
                            {
                                name: "history-server",
                                image: config.apps.spark.image,
                                command: ["/opt/spark/bin/spark-class", "org.apache.spark.deploy.history.HistoryServer"],
                                env: [
                                    ...s3CredentialEnv(storage),
                                    { name: "SPARK_CONF_DIR", value: "/opt/spark/conf-geoplatform" },
                                    { name: "SPARK_DAEMON_CLASSPATH", value: `${jarsDir}/*` },
                                    { name: "SPARK_NO_DAEMONIZE", value: "true" },
                                ],
                                ports: [{ name: "http", containerPort: PORT }],
                                readinessProbe: { httpGet: { path: "/", port: "http" }, periodSeconds: 10 },
                                resources: resources("250m", "1Gi", "1", "2Gi"),
                                securityContext: RESTRICTED_CONTAINER,
                                volumeMounts: [
                                    { name: "spark-conf", mountPath: "/opt/spark/conf-geoplatform" },
                                    { name: "s3a-jars", mountPath: jarsDir },
                                ],
                            },
                        ],
                        volumes: [
                            { name: "spark-conf", configMap: { name: defaults.metadata.name } },
                            { name: "s3a-jars", emptyDir: {} },
                        ],
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
