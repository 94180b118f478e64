import { X509Certificate } from "crypto";
import * as yaml from "js-yaml";

const DAY_MS = 24 * 3600 * 1000;

/**
 * The first patch of each minor with K3s's 120-day renewal window (k3s-io/k3s#12232, backported in #12312 and its
 * siblings: pkg/daemons/config/types.go `CertificateRenewDays = 120`); earlier patches renew within 90 days.
 */
const WIDER_WINDOW_SINCE: Record<number, number> = { 30: 13, 31: 9, 32: 5, 33: 1 };

/** Days before expiry within which K3s `version` (`v1.33.5+k3s1`) renews a certificate at a start (docs/k3s.md, "Kubeconfig expiry"). */
export function renewalWindowDays(version: string): number {
    const match = /^v1\.(\d+)\.(\d+)\+/.exec(version);
    if (!match) throw new Error(`not a K3s version: ${version}`);
    const [minor, patch] = [Number(match[1]), Number(match[2])];
    const since = WIDER_WINDOW_SINCE[minor];
    return minor > 33 || (since !== undefined && patch >= since) ? 120 : 90;
}

/** When the client certificate of a kubeconfig's first user expires; undefined for anything else (a preview's placeholder). */
export function clientCertificateExpiry(kubeconfig: string): Date | undefined {
    try {
        const parsed = yaml.load(kubeconfig) as { users?: { user?: Record<string, unknown> }[] } | undefined;
        const data = parsed?.users?.[0]?.user?.["client-certificate-data"];
        if (typeof data !== "string") return undefined;
        return new Date(new X509Certificate(Buffer.from(data, "base64")).validTo);
    } catch {
        return undefined;
    }
}

/**
 * The warning a run prints while the kubeconfig it holds expires within K3s's renewal window. K3s renews a certificate
 * only when it starts, and each server signs its own admin certificate into its own k3s.yaml, so only a restart of
 * `server`, the one the kubeconfig is read from, renews this one (docs/k3s.md, "Kubeconfig expiry").
 */
export function expiryWarning(kubeconfig: string, now: Date, k3sVersion: string, server: string): string | undefined {
    const expiry = clientCertificateExpiry(kubeconfig);
    if (!expiry) return undefined;
    const days = Math.floor((expiry.getTime() - now.getTime()) / DAY_MS);
    if (days >= renewalWindowDays(k3sVersion)) return undefined;
    const when = days < 0 ? `expired on ${expiry.toISOString().slice(0, 10)}` : `expires in ${days} days (${expiry.toISOString().slice(0, 10)})`;
    return (
        `the kubeconfig's client certificate ${when}; K3s renews it only when it starts, and each server its own: restart K3s on ${server}, ` +
        `the server it is read from (sudo systemctl restart k3s), and run pulumi up again in the next month, or rotate it (docs/k3s.md, "Kubeconfig expiry")`
    );
}
