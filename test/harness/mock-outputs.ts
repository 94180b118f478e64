// What the mocked providers answer: plausible computed outputs per resource
// type and per invoke. Every generated secret is a recognisable sentinel so
// tests can look for it wherever it must not appear.

export const SECRET_SENTINEL = "MOCKSECRET";

export function sentinel(kind: string, name: string): string {
    return `${SECRET_SENTINEL}-${kind}-${name}`;
}

// One octet per resource, the same in every run of a test process, so two runs
// of the program (before and after a config change) can be compared input by input.
const octets = new Map<string, number>();
function octetFor(resource: string): number {
    if (!octets.has(resource)) octets.set(resource, (octets.size % 250) + 1);
    return octets.get(resource) as number;
}

type OutputMock = (name: string, inputs: Record<string, any>) => Record<string, unknown>;

/** What K3s writes to /etc/rancher/k3s/k3s.yaml, with a sentinel for the client key. */
export function mockKubeconfig(name: string): string {
    return [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        "- cluster: {certificate-authority-data: Q0E=, server: 'https://127.0.0.1:6443'}",
        "  name: default",
        "contexts:",
        "- context: {cluster: default, user: default}",
        "  name: default",
        "current-context: default",
        "users:",
        `- name: default`,
        `  user: {client-certificate-data: Q0VSVA==, client-key-data: ${sentinel("kubeconfig-key", name)}}`,
        "",
    ].join("\n");
}

export const RESOURCE_OUTPUTS: Record<string, OutputMock> = {
    "tls:index/privateKey:PrivateKey": (name) => ({
        privateKeyOpenssh: sentinel("ssh-key", name),
        privateKeyPem: sentinel("ssh-key-pem", name),
        publicKeyOpenssh: `ssh-ed25519 AAAAmock ${name}`,
    }),
    "random:index/randomPassword:RandomPassword": (name) => ({ result: sentinel("password", name), bcryptHash: `$2a$10$mockhash${name}` }),
    "openstack:networking/port:Port": (name) => ({ allFixedIps: [`10.10.0.${octetFor(`port:${name}`)}`] }),
    "openstack:networking/floatingIp:FloatingIp": (name) => ({ address: `203.0.113.${octetFor(`fip:${name}`)}` }),
    "openstack:compute/keypair:Keypair": (_name, inputs) => ({ name: inputs.name }),
    "aws:ec2/instance:Instance": (name, inputs) => ({
        privateIp: `10.20.128.${octetFor(`private:${name}`)}`,
        publicIp: inputs.associatePublicIpAddress ? `198.51.100.${octetFor(`public:${name}`)}` : "",
    }),
    "aws:ec2/eip:Eip": (name) => ({ publicIp: `198.51.100.${octetFor(`public:${name}`)}`, allocationId: `eipalloc-${name}` }),
    "aws:ec2/keyPair:KeyPair": (_name, inputs) => ({ keyName: inputs.keyName }),
    // The backup bucket (infra/backup-*.ts): auto-named as the providers name it, keys as sentinels.
    "aws:s3/bucket:Bucket": (name, inputs) => ({ bucket: `${inputs.bucketPrefix ?? name}mock`, arn: `arn:aws:s3:::${inputs.bucketPrefix ?? name}mock` }),
    "aws:iam/user:User": (_name, inputs) => ({ arn: `arn:aws:iam::123456789012:user${inputs.path}${inputs.name}` }),
    "aws:iam/accessKey:AccessKey": (name) => ({ secret: sentinel("backup-secret-key", name) }),
    "openstack:objectstorage/container:Container": (name) => ({ name: `${name}-mock` }),
    "openstack:identity/ec2CredentialV3:Ec2CredentialV3": (name) => ({ access: `access-${name}`, secret: sentinel("backup-secret-key", name) }),
    "command:remote:Command": (name) => ({
        stdout: name.endsWith("-kubeconfig") ? mockKubeconfig(name) : name.endsWith("-host-key") ? `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5mock${name}` : "",
        stderr: "",
    }),
};

export const CALL_RESULTS: Record<string, (inputs: Record<string, any>) => Record<string, unknown>> = {
    "openstack:networking/getNetwork:getNetwork": (inputs) => ({ id: `net-${inputs.name}`, name: inputs.name }),
};
