import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";

/** One ED25519 key pair for every VM; the private half exists only as a Pulumi secret. */
export function sshKey(name: string, opts: pulumi.CustomResourceOptions): tls.PrivateKey {
    return new tls.PrivateKey(`${name}-ssh`, { algorithm: "ED25519" }, { ...opts, additionalSecretOutputs: ["privateKeyOpenssh", "privateKeyPem"] });
}
