import * as k8s from "../kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { BackupStore } from "../../infra/types";
import { k8sSecret } from "../secrets";

/**
 * A Secret in `namespace` with the backup bucket's keys (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, plus
 * `extra`): every in-cluster writer of backups reads the bucket's keys from one of these, never from its spec.
 */
export function backupSecret(
    name: string,
    namespace: pulumi.Input<string>,
    store: BackupStore,
    parent: pulumi.Resource,
    extra: Record<string, pulumi.Input<string>> = {},
): k8s.core.v1.Secret {
    return k8sSecret(
        name,
        { namespace, data: { AWS_ACCESS_KEY_ID: store.accessKeyId, AWS_SECRET_ACCESS_KEY: store.secretAccessKey, AWS_REGION: store.region, ...extra } },
        { parent, dependsOn: store.ready },
    );
}
