import * as pulumi from "@pulumi/pulumi";
import { AlertingConfig, AlertReceiver } from "../../config/types";
import { k8sSecret } from "../secrets";

/**
 * The Secret with the receivers' credentials, mounted into Alertmanager by
 * alertmanagerSpec.secrets at /etc/alertmanager/secrets/<name>/<key>
 * (kube-prometheus-stack 88.5.3 values.yaml alertmanager.alertmanagerSpec.secrets;
 * prometheus-operator pkg/alertmanager/statefulset.go secretsDir).
 */
export const RECEIVER_SECRET = "alertmanager-receivers";
const SECRETS_DIR = `/etc/alertmanager/secrets/${RECEIVER_SECRET}`;

/** Receiver that drops what it gets: only for Watchdog (the always-firing dead man's switch) and InfoInhibitor. */
export const NULL_RECEIVER = "null";

type Receiver = Record<string, unknown>;

/** The Secret key of one receiver's credential. */
const keyOf = (receiver: AlertReceiver, field: string) => `${receiver.name}-${field}`;

/**
 * One receiver as Alertmanager v0.34.0 reads it, each credential as a file
 * from the receivers' Secret: email auth_password_file (config/notifiers.go
 * EmailConfig), webhook url_file (notify/webhook/config.go), slack api_url_file
 * (config/notifiers.go SlackConfig). The prometheus-operator (v0.93
 * pkg/alertmanager/amcfg.go alertmanagerConfigFromBytes) loads the config with
 * Alertmanager's own config.Load and then strictly into its types, which have
 * these *_file fields (pkg/alertmanager/types.go).
 */
function receiverConfig(r: AlertReceiver): { receiver: Receiver; credentials: Record<string, string> } {
    const credentials: Record<string, string> = {};
    const file = (field: string, value: string) => {
        credentials[keyOf(r, field)] = value;
        return `${SECRETS_DIR}/${keyOf(r, field)}`;
    };
    if (r.email) {
        const e = r.email;
        const email: Record<string, unknown> = { to: e.to, from: e.from, smarthost: e.smarthost, require_tls: e.requireTls, send_resolved: true };
        if (e.authUsername !== undefined && e.authPassword !== undefined) {
            email.auth_username = e.authUsername;
            email.auth_password_file = file("auth-password", e.authPassword);
        }
        return { receiver: { name: r.name, email_configs: [email] }, credentials };
    }
    if (r.webhook) return { receiver: { name: r.name, webhook_configs: [{ url_file: file("webhook-url", r.webhook.url), send_resolved: true }] }, credentials };
    if (r.slack) {
        return {
            receiver: { name: r.name, slack_configs: [{ api_url_file: file("slack-api-url", r.slack.apiUrl), channel: r.slack.channel, send_resolved: true }] },
            credentials,
        };
    }
    throw new Error(`receiver ${r.name} has no kind (config/validate.ts checkReceiver lets none through)`);
}

/**
 * The routing tree: Watchdog and InfoInhibitor to the null receiver; critical
 * alerts to criticalReceiver and on (continue) to the default receiver; the
 * rest to the default receiver. Alertmanager matches children in order and
 * stops at the first match without `continue` (dispatch/route.go Route.Match).
 */
export function alertmanagerRoute(alerting: AlertingConfig): Record<string, unknown> {
    const routes: Record<string, unknown>[] = [
        { receiver: NULL_RECEIVER, matchers: ['alertname = "Watchdog"'] },
        { receiver: NULL_RECEIVER, matchers: ['alertname = "InfoInhibitor"'] },
    ];
    if (alerting.criticalReceiver && alerting.criticalReceiver !== alerting.defaultReceiver) {
        routes.push({ receiver: alerting.criticalReceiver, matchers: ['severity = "critical"'], continue: true });
        // With a matching child, the parent's receiver is not used (Route.Match): send critical ones on to the default receiver too.
        routes.push({ receiver: alerting.defaultReceiver, matchers: ['severity = "critical"'] });
    }
    return { receiver: alerting.defaultReceiver, group_by: ["namespace", "alertname"], routes };
}

/**
 * kube-prometheus-stack's `alertmanager.config` for the stack: the chart's own
 * global and inhibit rules stay (Helm merges maps), route and receivers are
 * replaced. No credential is in it: `credentials` goes into the receivers' Secret.
 */
export function alertmanagerConfig(alerting: AlertingConfig): { config: Record<string, unknown>; credentials: Record<string, string> } {
    const built = alerting.receivers.map(receiverConfig);
    return {
        config: {
            route: alertmanagerRoute(alerting),
            receivers: [{ name: NULL_RECEIVER }, ...built.map((b) => b.receiver)],
        },
        credentials: Object.assign({}, ...built.map((b) => b.credentials)),
    };
}

/** The receivers' credentials as a Kubernetes Secret (Pulumi secret data) in Alertmanager's namespace. */
export class AlertReceivers extends pulumi.ComponentResource {
    readonly secret: pulumi.Resource;

    constructor(name: string, args: { namespace: pulumi.Input<string>; alerting: AlertingConfig }, opts: pulumi.ComponentResourceOptions) {
        super("geoplatform:platform:AlertReceivers", name, {}, opts);
        const { credentials } = alertmanagerConfig(args.alerting);
        // Empty when no receiver has a credential: the mount must still exist, or the Alertmanager pod does not start.
        this.secret = k8sSecret(RECEIVER_SECRET, { namespace: args.namespace, data: credentials }, { parent: this });
        this.registerOutputs({});
    }
}
