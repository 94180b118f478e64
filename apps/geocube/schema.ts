import * as k8s from "../../platform/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { GEOCUBE_SQL, IMAGES, PLATFORM_IMAGES } from "../../config/catalog";
import { podPlacement } from "../placement";
import { AppDatabase } from "../../platform/types";
import { AppArgs, childOptions, resources, RESTRICTED_CONTAINER, restrictedPod, secretEnv } from "../types";
import { INIT_SCHEMA_SH } from "./init-schema";

const SQL_DIR = "/sql";

/** Where the schema Job fetches a file of Geocube's source, at the pinned commit. */
export function geocubeSourceUrl(path: string): string {
    return `https://raw.githubusercontent.com/airbusgeo/geocube/${GEOCUBE_SQL.commit}/${path}`;
}

/**
 * A Job that creates Geocube's schema and pgqueue table in its database: an
 * init container fetches the release's SQL, the PostgreSQL image applies it.
 * Pulumi waits for the Job to complete, so the services start on a ready schema.
 */
export function geocubeSchema(parent: pulumi.Resource, args: AppArgs, db: AppDatabase): k8s.batch.v1.Job {
    const namespace = args.binding.namespace;
    const script = new k8s.core.v1.ConfigMap(
        "geocube-schema",
        { metadata: { name: "geocube-schema", namespace }, data: { "init-schema.sh": INIT_SCHEMA_SH } },
        childOptions(parent, args),
    );
    const fetchArgs = Object.entries(GEOCUBE_SQL.files).flatMap(([file, { path }]) => ["-o", `${SQL_DIR}/${file}`, geocubeSourceUrl(path)]);
    return new k8s.batch.v1.Job(
        "geocube-schema",
        {
            metadata: { name: "geocube-schema", namespace },
            spec: {
                backoffLimit: 6,
                template: {
                    spec: {
                        ...podPlacement(args.config, "system"),
                        restartPolicy: "OnFailure",
                        securityContext: restrictedPod(1000),
                        initContainers: [
                            {
                                name: "fetch-sql",
                                image: IMAGES.curl,
                                args: ["-fsSL", "--retry", "5", ...fetchArgs],
                                volumeMounts: [{ name: "sql", mountPath: SQL_DIR }],
                                resources: resources("50m", "32Mi", "200m", "64Mi"),
                                securityContext: RESTRICTED_CONTAINER,
                            },
                        ],
                        containers: [
                            {
                                name: "init-schema",
                                image: `${PLATFORM_IMAGES.postgres.repository}:${PLATFORM_IMAGES.postgres.tag}`,
                                command: ["bash", "/scripts/init-schema.sh"],
                                env: [
                                    { name: "SQL_DIR", value: SQL_DIR },
                                    // psql looks for its dotfiles here; the image has no home for this user.
                                    { name: "HOME", value: SQL_DIR },
                                    { name: "SCHEMA_SHA256", value: GEOCUBE_SQL.files["schema.sql"].sha256 },
                                    { name: "PGQUEUE_SHA256", value: GEOCUBE_SQL.files["pgqueue.sql"].sha256 },
                                    { name: "PGHOST", value: db.host },
                                    { name: "PGPORT", value: String(db.port) },
                                    { name: "PGDATABASE", value: db.database },
                                    { name: "PGUSER", value: db.username },
                                    secretEnv("PGPASSWORD", db.secretName, "password"),
                                ],
                                volumeMounts: [
                                    { name: "sql", mountPath: SQL_DIR },
                                    { name: "scripts", mountPath: "/scripts", readOnly: true },
                                ],
                                resources: resources("50m", "64Mi", "500m", "256Mi"),
                                securityContext: RESTRICTED_CONTAINER,
                            },
                        ],
                        volumes: [
                            { name: "sql", emptyDir: {} },
                            { name: "scripts", configMap: { name: script.metadata.name } },
                        ],
                    },
                },
            },
        },
        childOptions(parent, args, [script]),
    );
}
