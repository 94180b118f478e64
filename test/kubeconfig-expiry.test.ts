import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { clientCertificateExpiry, expiryWarning } from "../platform/k3s/kubeconfig-expiry";

// A kubeconfig as K3s writes it, with a real client certificate valid `days` days from now.
function kubeconfig(days: number): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "geoplatform-cert-"));
    try {
        const cert = path.join(dir, "c.pem");
        const key = path.join(dir, "k.pem");
        execFileSync(
            "openssl",
            [
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-subj",
                "/CN=system:admin",
                "-days",
                String(days),
                "-keyout",
                key,
                "-out",
                cert,
            ],
            {
                stdio: "ignore",
            },
        );
        const data = fs.readFileSync(cert).toString("base64");
        return `apiVersion: v1\nclusters: []\nusers:\n- name: default\n  user:\n    client-certificate-data: ${data}\n    client-key-data: a2V5\n`;
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

describe("kubeconfig expiry", () => {
    it("reads the client certificate's end date, and nothing from a placeholder", () => {
        const expiry = clientCertificateExpiry(kubeconfig(365)) as Date;
        const days = (expiry.getTime() - Date.now()) / 86400000;
        assert.ok(days > 364 && days < 366, String(days));
        assert.strictEqual(clientCertificateExpiry("users: [{user: {client-certificate-data: Q0VSVA==}}]"), undefined);
        assert.strictEqual(clientCertificateExpiry(""), undefined);
    });

    it("warns within K3s's 90-day renewal window, naming the date and the restart, and not before", () => {
        assert.strictEqual(expiryWarning(kubeconfig(365), new Date()), undefined);
        assert.strictEqual(expiryWarning(kubeconfig(120), new Date()), undefined);
        const soon = expiryWarning(kubeconfig(60), new Date()) ?? "";
        assert.match(soon, /client certificate expires in (59|60) days \(\d{4}-\d\d-\d\d\); K3s renews it only when it starts: restart K3s on one server/);
        const later = new Date(Date.now() + 70 * 86400000);
        assert.match(expiryWarning(kubeconfig(60), later) ?? "", /client certificate expired on \d{4}-\d\d-\d\d/);
    });
});
