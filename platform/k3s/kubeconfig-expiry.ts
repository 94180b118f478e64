import { X509Certificate } from "crypto";
import * as yaml from "js-yaml";

/** K3s renews a certificate at a start within this many days of its expiry (docs/k3s.md, "Kubeconfig expiry"). */
export const RENEWAL_WINDOW_DAYS = 90;
const DAY_MS = 24 * 3600 * 1000;

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
 * The warning a run prints while the kubeconfig it holds expires within the renewal window: K3s renews the certificate
 * only when it starts, so a cluster never restarted needs one server restarted (docs/k3s.md, "Kubeconfig expiry").
 */
export function expiryWarning(kubeconfig: string, now: Date): string | undefined {
    const expiry = clientCertificateExpiry(kubeconfig);
    if (!expiry) return undefined;
    const days = Math.floor((expiry.getTime() - now.getTime()) / DAY_MS);
    if (days >= RENEWAL_WINDOW_DAYS) return undefined;
    const when = days < 0 ? `expired on ${expiry.toISOString().slice(0, 10)}` : `expires in ${days} days (${expiry.toISOString().slice(0, 10)})`;
    return (
        `the kubeconfig's client certificate ${when}; K3s renews it only when it starts: restart K3s on one server ` +
        `(sudo systemctl restart k3s) and run pulumi up again in the next month, or rotate it (docs/k3s.md, "Kubeconfig expiry")`
    );
}
