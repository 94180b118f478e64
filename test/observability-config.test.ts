import * as assert from "assert";
import { ConfigError } from "../config/checker";
import { validateConfig } from "../config/validate";
import { rawGeoplatformConfig } from "./harness/stack-config";

// Alert receivers and log settings in stack config: one clear message per mistake, naming the key.

function problemsOf(stack: "dev" | "prod", edit: (raw: any) => void): string[] {
    const raw = rawGeoplatformConfig(stack);
    edit(raw);
    try {
        validateConfig(raw, stack);
        return [];
    } catch (e) {
        assert.ok(e instanceof ConfigError, String(e));
        return e.problems;
    }
}

const receivers = (raw: any) => raw.platform.alerting.receivers;

describe("config: alerting receivers and logs", () => {
    it("accepts both stack files", () => {
        assert.deepStrictEqual(
            problemsOf("dev", () => undefined),
            [],
        );
        assert.deepStrictEqual(
            problemsOf("prod", () => undefined),
            [],
        );
    });

    it("accepts e-mail with a password, a webhook and Slack", () => {
        const problems = problemsOf("dev", (raw) => {
            receivers(raw)[0].email.authUsername = "am";
            receivers(raw)[0].email.authPassword = "s3cret";
            receivers(raw).push({ name: "matrix", webhook: { url: "https://matrix-bridge.example.org/alerts/abc" } });
            receivers(raw).push({ name: "chat", slack: { apiUrl: "https://hooks.slack.com/services/x", channel: "#alerts" } });
            raw.platform.alerting.criticalReceiver = "matrix";
        });
        assert.deepStrictEqual(problems, []);
    });

    const cases: [string, (raw: any) => void, string][] = [
        ["no alerting at all", (raw) => delete raw.platform.alerting, "geoplatform:platform.alerting: got nothing, expected an object"],
        [
            "no receiver",
            (raw) => (raw.platform.alerting.receivers = []),
            "geoplatform:platform.alerting.receivers: got [], expected a list of at least 1 item(s)",
        ],
        [
            "a default receiver that does not exist",
            (raw) => (raw.platform.alerting.defaultReceiver = "ops"),
            'geoplatform:platform.alerting.defaultReceiver: got "ops", expected the name of a receiver (platform-team)',
        ],
        [
            "a critical receiver that does not exist",
            (raw) => (raw.platform.alerting.criticalReceiver = "pager"),
            'geoplatform:platform.alerting.criticalReceiver: got "pager", expected the name of a receiver (platform-team)',
        ],
        [
            "a receiver named null",
            (raw) => {
                receivers(raw)[0].name = "null";
                raw.platform.alerting.defaultReceiver = "null";
            },
            'geoplatform:platform.alerting.receivers[0].name: got "null", expected another name: "null" is the receiver that drops Watchdog and InfoInhibitor',
        ],
        [
            "two receivers with one name",
            (raw) => receivers(raw).push(structuredClone(receivers(raw)[0])),
            'geoplatform:platform.alerting.receivers[1].name: got "platform-team", expected a name no other receiver has',
        ],
        [
            "a receiver of two kinds",
            (raw) => (receivers(raw)[0].webhook = { url: "https://x.example.org" }),
            'geoplatform:platform.alerting.receivers[0]: got ["email","webhook"], expected exactly one of email, webhook, slack per receiver',
        ],
        [
            "a smarthost without port",
            (raw) => (receivers(raw)[0].email.smarthost = "smtp.example.org"),
            'geoplatform:platform.alerting.receivers[0].email.smarthost: got "smtp.example.org", expected an SMTP relay as host:port such as smtp.example.org:587',
        ],
        [
            "a bad recipient",
            (raw) => (receivers(raw)[0].email.to = "team"),
            'geoplatform:platform.alerting.receivers[0].email.to: got "team", expected an e-mail address',
        ],
        [
            "a user without password",
            (raw) => (receivers(raw)[0].email.authUsername = "am"),
            "geoplatform:platform.alerting.receivers[0].email.authPassword: got nothing, expected authUsername and authPassword together, or neither for a relay without authentication",
        ],
        [
            "a webhook without URL",
            (raw) => receivers(raw).push({ name: "hook", webhook: {} }),
            "geoplatform:platform.alerting.receivers[1].webhook.url: got nothing, expected a non-empty string, set as a secret (pulumi config set --secret --path 'geoplatform:platform.alerting.receivers[1].webhook.url')",
        ],
        [
            "a webhook URL that is no URL, without echoing it",
            (raw) => receivers(raw).push({ name: "hook", webhook: { url: "token-abc" } }),
            'geoplatform:platform.alerting.receivers[1].webhook.url: got "(secret)", expected an https URL',
        ],
        [
            "an SMTP relay on a port Alertmanager's egress policy blocks",
            (raw) => (receivers(raw)[0].email.smarthost = "smtp.example.org:25"),
            'geoplatform:platform.alerting.receivers[0].email.smarthost: got "smtp.example.org:25", expected a public relay on port 587 or 465: Alertmanager\'s egress NetworkPolicy allows only those for e-mail',
        ],
        [
            "a plain-http webhook, without echoing it",
            (raw) => receivers(raw).push({ name: "hook", webhook: { url: "http://hooks.example.org/token-abc" } }),
            'geoplatform:platform.alerting.receivers[1].webhook.url: got "(secret)", expected an https URL',
        ],
        [
            "a webhook on another port",
            (raw) => receivers(raw).push({ name: "hook", webhook: { url: "https://hooks.example.org:8443/token-abc" } }),
            'geoplatform:platform.alerting.receivers[1].webhook.url: got "(secret)", expected an https URL to a public host on port 443: Alertmanager\'s egress NetworkPolicy allows only that',
        ],
        [
            "an SMTP relay at a private address",
            (raw) => (receivers(raw)[0].email.smarthost = "10.1.2.3:587"),
            'geoplatform:platform.alerting.receivers[0].email.smarthost: got "10.1.2.3:587", expected a public relay on port 587 or 465: Alertmanager\'s egress NetworkPolicy allows only those for e-mail',
        ],
        [
            "a webhook to a Service's short name",
            (raw) => receivers(raw).push({ name: "hook", webhook: { url: "https://matrix-bridge/hook" } }),
            'geoplatform:platform.alerting.receivers[1].webhook.url: got "(secret)", expected an https URL to a public host on port 443: Alertmanager\'s egress NetworkPolicy allows only that',
        ],
        [
            "a webhook to an in-cluster Service",
            (raw) => receivers(raw).push({ name: "hook", webhook: { url: "https://matrix-bridge.chat.svc/hook" } }),
            'geoplatform:platform.alerting.receivers[1].webhook.url: got "(secret)", expected an https URL to a public host on port 443: Alertmanager\'s egress NetworkPolicy allows only that',
        ],
        [
            "a Slack channel without #",
            (raw) => receivers(raw).push({ name: "chat", slack: { apiUrl: "https://hooks.slack.com/x", channel: "alerts" } }),
            'geoplatform:platform.alerting.receivers[1].slack.channel: got "alerts", expected a channel such as #alerts',
        ],
        [
            "a misspelt receiver key",
            (raw) => (receivers(raw)[0].email.smartHost = "x:25"),
            'geoplatform:platform.alerting.receivers[0].email.smartHost: got "x:25", expected no such key (known keys: to, from, smarthost, authUsername, authPassword, requireTls)',
        ],
        [
            "a log retention in hours",
            (raw) => (raw.platform.logs.retention = "36h"),
            'geoplatform:platform.logs.retention: got "36h", expected whole days or weeks such as 14d or 4w (Loki deletes logs by 24h index periods)',
        ],
        [
            "more Loki replicas than system nodes",
            (raw) => (raw.platform.logs.replicas = 2),
            "geoplatform:platform.logs.replicas: got 2, expected at most 1, the system nodes: each Loki replica needs its own node (required pod anti-affinity by hostname)",
        ],
    ];
    for (const [name, edit, expected] of cases) {
        it(`refuses ${name}, with one message`, () => assert.deepStrictEqual(problemsOf("dev", edit), [expected]));
    }
});
