import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { clientCertificateExpiry, expiryWarning, renewalWindowDays } from "../platform/k3s/kubeconfig-expiry";
import { RESOURCE_OUTPUTS } from "./harness/mock-outputs";
import { runStack } from "./harness/run-stack";

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

    it("warns within the pinned K3s's 120-day renewal window, naming the date and the server to restart, and not before", () => {
        const version = "v1.33.5+k3s1";
        assert.strictEqual(expiryWarning(kubeconfig(365), new Date(), version, "dev-control-plane-1"), undefined);
        assert.strictEqual(expiryWarning(kubeconfig(125), new Date(), version, "dev-control-plane-1"), undefined);
        const soon = expiryWarning(kubeconfig(110), new Date(), version, "dev-control-plane-1") ?? "";
        assert.match(
            soon,
            /client certificate expires in (109|110) days \(\d{4}-\d\d-\d\d\); K3s renews it only when it starts, and each server its own: restart K3s on dev-control-plane-1, the server it is read from/,
        );
        const later = new Date(Date.now() + 70 * 86400000);
        assert.match(expiryWarning(kubeconfig(60), later, version, "dev-control-plane-1") ?? "", /client certificate expired on \d{4}-\d\d-\d\d/);
        // Before the 120-day window reached its minor, a restart 110 days out renews nothing: no advice to restart yet.
        assert.strictEqual(expiryWarning(kubeconfig(110), new Date(), "v1.33.0+k3s1", "dev-control-plane-1"), undefined);
    });

    it("knows which K3s releases renew within 120 days (k3s-io/k3s#12232 and its backports)", () => {
        const windows = [
            "v1.30.12+k3s1",
            "v1.30.13+k3s1",
            "v1.31.9+k3s1",
            "v1.32.4+k3s1",
            "v1.32.5+k3s1",
            "v1.33.0+k3s1",
            "v1.33.5+k3s1",
            "v1.34.1+k3s1",
            "v1.29.15+k3s1",
        ].map(renewalWindowDays);
        assert.deepStrictEqual(windows, [90, 120, 120, 90, 120, 90, 120, 120, 90]);
    });

    for (const stack of ["dev", "prod"]) {
        it(`${stack}: a run holding a kubeconfig near expiry warns to restart the first server, the one the kubeconfig is read from`, async () => {
            const commands = RESOURCE_OUTPUTS["command:remote:Command"];
            const nearExpiry = kubeconfig(100);
            const warnings: string[] = [];
            const warn = pulumi.log.warn;
            RESOURCE_OUTPUTS["command:remote:Command"] = (name, inputs) => ({
                ...commands(name, inputs),
                ...(name.endsWith("-kubeconfig") ? { stdout: nearExpiry } : {}),
            });
            pulumi.log.warn = async (message: string) => void warnings.push(message);
            try {
                const run = await runStack(stack);
                const read = run.resources.find((r) => r.name === `${stack}-kubeconfig`);
                const first = run.resources.find((r) => r.name === `${stack}-control-plane-1-k3s`);
                assert.ok(read && first);
                assert.strictEqual(read.inputs.connection.host, first.inputs.connection.host, "read from the first server");
                const expiry = warnings.filter((w) => w.includes("client certificate"));
                assert.strictEqual(expiry.length, 1, JSON.stringify(warnings));
                assert.match(expiry[0], new RegExp(`restart K3s on ${stack}-control-plane-1, the server it is read from`));
            } finally {
                RESOURCE_OUTPUTS["command:remote:Command"] = commands;
                pulumi.log.warn = warn;
            }
        });
    }
});
