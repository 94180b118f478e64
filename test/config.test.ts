import * as assert from "assert";
import { DEFAULT_IMAGE_REGISTRY, GEOCUBE_IMAGES, IMAGES, PROJECT_IMAGES } from "../config/catalog";
import { ConfigError } from "../config/checker";
import { cidrsOverlap, Cidr, hasHostBits, ipv4Subnet, isWorldCidr, networkOf, parseCidr, worldCoveredBy } from "../config/net";
import { APP_NAMES } from "../config/types";
import { validateConfig } from "../config/validate";
import { runStack } from "./harness/run-stack";
import { rawGeoplatformConfig, readStackFile, STACKS } from "./harness/stack-config";

/** Dev's real config with one change applied by `edit`. */
function devWith(edit: (raw: any) => void): Record<string, unknown> {
    const raw = rawGeoplatformConfig("dev");
    edit(raw);
    return raw;
}

function prodWith(edit: (raw: any) => void): Record<string, unknown> {
    const raw = rawGeoplatformConfig("prod");
    edit(raw);
    return raw;
}

/** The stack whose file `raw` was made from (dev is the OpenStack one, prod the AWS one): it names the VMs. */
const stackOf = (raw: Record<string, unknown>) => (raw.cloud === "aws" ? "prod" : "dev");

function problemsOf(raw: Record<string, unknown>): string[] {
    try {
        validateConfig(raw, stackOf(raw));
    } catch (e) {
        assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
        return e.problems;
    }
    return [];
}

describe("stack configuration", () => {
    for (const stack of STACKS) {
        it(`accepts the real Pulumi.${stack}.yaml`, () => {
            const config = validateConfig(rawGeoplatformConfig(stack), stack);
            assert.ok(Object.keys(config.nodeGroups).length >= 3);
        });
    }

    it("reads dev as OpenStack with one node per group and prod as AWS HA with spot processing", () => {
        const dev = validateConfig(rawGeoplatformConfig("dev"), "dev");
        assert.strictEqual(dev.cloud, "openstack");
        assert.deepStrictEqual(
            Object.values(dev.nodeGroups).map((g) => g.count),
            [1, 1, 1],
        );
        const prod = validateConfig(rawGeoplatformConfig("prod"), "prod");
        assert.strictEqual(prod.cloud, "aws");
        assert.strictEqual(prod.nodeGroups["control-plane"].count, 3);
        assert.strictEqual(prod.nodeGroups.system.count, 3);
        assert.strictEqual(prod.nodeGroups.processing.spot, true);
        assert.deepStrictEqual(prod.nodeGroups.processing.taints, [{ key: "geoplatform.io/node-group", value: "processing", effect: "NoSchedule" }]);
    });

    // Each bad config names the key, what was given and what is expected.
    const badConfigs: { name: string; raw: Record<string, unknown>; message: RegExp }[] = [
        { name: "unknown cloud", raw: devWith((r) => (r.cloud = "gcp")), message: /geoplatform:cloud: got "gcp", expected one of openstack \| aws/ },
        {
            name: "world-open admin CIDR",
            raw: devWith((r) => (r.adminCidrs = ["0.0.0.0/0"])),
            message: /geoplatform:adminCidrs\[0\]: got "0.0.0.0\/0", expected a narrower CIDR.*allowWorldAdminAccess/,
        },
        {
            name: "world-open IPv6 admin CIDR",
            raw: devWith((r) => (r.adminCidrs = ["::/0"])),
            message: /geoplatform:adminCidrs\[0\]: got "::\/0", expected a narrower CIDR/,
        },
        {
            name: "malformed CIDR",
            raw: devWith((r) => (r.adminCidrs = ["203.0.113.300/24"])),
            message: /geoplatform:adminCidrs\[0\]: got "203.0.113.300\/24", expected a CIDR/,
        },
        { name: "empty adminCidrs", raw: devWith((r) => (r.adminCidrs = [])), message: /geoplatform:adminCidrs: got \[\], expected a list of at least 1/ },
        {
            name: "unpinned K3s version",
            raw: devWith((r) => (r.k3sVersion = "latest")),
            message: /geoplatform:k3sVersion: got "latest", expected a pinned K3s release/,
        },
        {
            name: "even server count",
            raw: prodWith((r) => (r.nodeGroups["control-plane"].count = 2)),
            message: /geoplatform:nodeGroups.control-plane.count: got 2, expected an odd number of servers/,
        },
        {
            name: "two server groups",
            raw: devWith((r) => (r.nodeGroups.extra = { ...r.nodeGroups["control-plane"] })),
            message: /geoplatform:nodeGroups: got \["control-plane","extra"\], expected exactly one group with role: server/,
        },
        {
            name: "system as a server group",
            raw: devWith((r) => (r.nodeGroups.system.role = "server")),
            message: /geoplatform:nodeGroups.system.role: got "server", expected agent: the platform's shared services run there/,
        },
        {
            name: "bad taint effect",
            raw: devWith((r) => (r.nodeGroups.processing.taints[0].effect = "NoRun")),
            message: /geoplatform:nodeGroups.processing.taints\[0\].effect: got "NoRun", expected one of NoSchedule \| PreferNoSchedule \| NoExecute/,
        },
        {
            name: "bad label value",
            raw: devWith((r) => (r.nodeGroups.system.labels["geoplatform.io/workload"] = "has spaces")),
            message: /geoplatform:nodeGroups.system.labels.geoplatform.io\/workload: got "has spaces", expected a Kubernetes label value/,
        },
        {
            name: "bad label key",
            raw: devWith((r) => (r.nodeGroups.system.labels["-bad/key/x"] = "v")),
            message: /geoplatform:nodeGroups.system.labels: got "-bad\/key\/x", expected a Kubernetes label key/,
        },
        {
            name: "label in the kubernetes.io namespace",
            raw: devWith((r) => (r.nodeGroups.system.labels["node-role.kubernetes.io/worker"] = "true")),
            message: /got "node-role.kubernetes.io\/worker", expected a label key outside the kubernetes.io and k8s.io namespaces/,
        },
        {
            name: "node-group label set by hand",
            raw: devWith((r) => (r.nodeGroups.system.labels["geoplatform.io/node-group"] = "other")),
            message: /geoplatform:nodeGroups.system.labels.geoplatform.io\/node-group: got "other", expected no value/,
        },
        {
            name: "spot on OpenStack",
            raw: devWith((r) => (r.nodeGroups.processing.spot = true)),
            message: /geoplatform:nodeGroups.processing.spot: got true, expected false: spot capacity exists on AWS only/,
        },
        {
            name: "spot on servers",
            raw: prodWith((r) => (r.nodeGroups["control-plane"].spot = true)),
            message: /geoplatform:nodeGroups.control-plane.spot: got true, expected false: a spot reclaim/,
        },
        {
            name: "size missing from the flavor map",
            raw: devWith((r) => (r.nodeGroups.processing.size = "huge")),
            message:
                /geoplatform:nodeGroups.processing.size: got "huge", expected a size defined in geoplatform:openstack.flavors \(small, medium, large, xlarge\)/,
        },
        {
            name: "negative count",
            raw: devWith((r) => (r.nodeGroups.processing.count = -1)),
            message: /geoplatform:nodeGroups.processing.count: got -1, expected a whole number from 0 to 50/,
        },
        {
            name: "no system group",
            raw: devWith((r) => delete r.nodeGroups.system),
            message: /geoplatform:nodeGroups.system: got nothing, expected an agent group with count >= 1/,
        },
        {
            name: "no ingress group",
            raw: devWith((r) => (r.nodeGroups.system.ingress = false)),
            message: /geoplatform:nodeGroups: got "no group with ingress: true", expected at least one non-empty group with ingress: true/,
        },
        {
            name: "misspelt top-level key",
            raw: devWith((r) => (r.k3sVersoin = "v1.33.5+k3s1")),
            message: /geoplatform:k3sVersoin: got "v1.33.5\+k3s1", expected no such key/,
        },
        {
            name: "misspelt node-group key",
            raw: devWith((r) => (r.nodeGroups.system.tains = [])),
            message: /geoplatform:nodeGroups.system.tains: got \[\], expected no such key/,
        },
        { name: "missing cloud block", raw: devWith((r) => delete r.openstack), message: /geoplatform:openstack: got nothing, expected an object/ },
        {
            name: "AWS zone outside the region",
            raw: prodWith((r) => (r.aws.availabilityZones = ["us-east-1a"])),
            message: /geoplatform:aws.availabilityZones\[0\]: got "us-east-1a", expected a zone of region eu-central-1/,
        },
        { name: "malformed AMI id", raw: prodWith((r) => (r.aws.ami = "ubuntu")), message: /geoplatform:aws.ami: got "ubuntu", expected a pinned AMI id/ },
        {
            name: "AWS stack without a pinned AMI",
            raw: prodWith((r) => delete r.aws.ami),
            message: /geoplatform:aws.ami: got nothing, expected a pinned AMI id/,
        },
        {
            name: "AMI id of the wrong length",
            raw: prodWith((r) => (r.aws.ami = "ami-0123")),
            message: /geoplatform:aws.ami: got "ami-0123", expected a pinned AMI id/,
        },
        {
            name: "the removed newest-AMI lookup",
            raw: prodWith((r) => (r.aws.amiLookup = { owner: "099720109477" })),
            message: /geoplatform:aws.amiLookup: got \{"owner":"099720109477"\}, expected nothing: the newest-AMI lookup is removed; pin geoplatform:aws.ami/,
        },
        {
            name: "an OpenStack image by name",
            raw: devWith((r) => (r.openstack.image = "Ubuntu 24.04 LTS")),
            message: /geoplatform:openstack.image: got "Ubuntu 24.04 LTS", expected nothing: images are pinned by id; set geoplatform:openstack.imageId/,
        },
        {
            name: "OpenStack stack without an image id",
            raw: devWith((r) => delete r.openstack.imageId),
            message: /geoplatform:openstack.imageId: got nothing, expected a pinned Glance image id/,
        },
        {
            name: "an image name as the image id",
            raw: devWith((r) => (r.openstack.imageId = "Ubuntu 24.04 LTS")),
            message: /geoplatform:openstack.imageId: got "Ubuntu 24.04 LTS", expected a pinned Glance image id/,
        },
        {
            name: "domain with a scheme",
            raw: devWith((r) => (r.domain = "https://geo.example.org")),
            message: /geoplatform:domain: got "https:\/\/geo.example.org", expected a lowercase DNS name/,
        },
        { name: "bad e-mail", raw: devWith((r) => (r.acmeEmail = "ops")), message: /geoplatform:acmeEmail: got "ops", expected an e-mail address/ },
        {
            name: "unknown app",
            raw: devWith((r) => (r.apps = { qgis: { enabled: true } })),
            message: /geoplatform:apps.qgis: got \{"enabled":true\}, expected no such key/,
        },
        {
            name: "unpinned app image",
            raw: devWith((r) => (r.apps = { jupyterhub: { singleuserImage: "apache/sedona:latest" } })),
            message: /geoplatform:apps.jupyterhub.singleuserImage: got "apache\/sedona:latest", expected a container image with a pinned tag/,
        },
        {
            name: "app image without a tag",
            raw: devWith((r) => (r.apps = { spark: { image: "apache/spark" } })),
            message: /geoplatform:apps.spark.image: got "apache\/spark", expected a container image with a pinned tag/,
        },
        {
            name: "misspelt app setting",
            raw: devWith((r) => (r.apps = { geocube: { apiserverImg: "a/b:1" } })),
            message: /geoplatform:apps.geocube.apiserverImg: got "a\/b:1", expected no such key/,
        },
        {
            name: "zero-sized Geocube volume",
            raw: devWith((r) => (r.apps = { geocube: { storageGb: 0 } })),
            message: /geoplatform:apps.geocube.storageGb: got 0, expected a whole number >= 1/,
        },
        {
            name: "non-boolean app toggle",
            raw: devWith((r) => (r.apps = { argo: { enabled: "no" } })),
            message: /geoplatform:apps.argo.enabled: got "no", expected true or false/,
        },
        {
            name: "openEO without Spark",
            raw: devWith((r) => (r.apps = { spark: { enabled: false } })),
            message: /geoplatform:apps.openeo.enabled: got true, expected false, or apps.spark.enabled true/,
        },
        {
            name: "apps without a processing group",
            raw: devWith((r) => delete r.nodeGroups.processing),
            message: /geoplatform:nodeGroups.processing: got nothing, expected an agent group: the enabled apps/,
        },
        // Issue 17, "Input": configs that used to pass validation.
        {
            name: "the world as two IPv4 halves",
            raw: devWith((r) => (r.adminCidrs = ["0.0.0.0/1", "128.0.0.0/1"])),
            message: /geoplatform:adminCidrs: got \["0.0.0.0\/1","128.0.0.0\/1"\], expected CIDRs that together do not cover all of IPv4 \(0.0.0.0\/0\)/,
        },
        {
            name: "the IPv6 world in overlapping pieces",
            raw: devWith((r) => (r.adminCidrs = ["203.0.113.0/24", "::/2", "4000::/2", "8000::/1", "c000::/3"])),
            message: /geoplatform:adminCidrs: got .*, expected CIDRs that together do not cover all of IPv6 \(::\/0\): SSH and the Kubernetes API/,
        },
        {
            name: "an admin CIDR with host bits",
            raw: devWith((r) => (r.adminCidrs = ["203.0.113.7/24"])),
            message: /geoplatform:adminCidrs\[0\]: got "203.0.113.7\/24", expected a network address without host bits: 203.0.113.0\/24/,
        },
        {
            name: "an IPv6 admin CIDR with host bits",
            raw: devWith((r) => (r.adminCidrs = ["2001:db8::1/48"])),
            message: /geoplatform:adminCidrs\[0\]: got "2001:db8::1\/48", expected a network address without host bits: 2001:db8::\/48/,
        },
        {
            name: "a network CIDR with host bits",
            raw: devWith((r) => (r.openstack.networkCidr = "10.10.1.0/16")),
            message: /geoplatform:openstack.networkCidr: got "10.10.1.0\/16", expected a network address without host bits: 10.10.0.0\/16/,
        },
        {
            name: "an IPv6 OpenStack network",
            raw: devWith((r) => (r.openstack.networkCidr = "fd00::/64")),
            message: /geoplatform:openstack.networkCidr: got "fd00::\/64", expected an IPv4 CIDR/,
        },
        {
            name: "a network covering K3s' pod and service CIDRs",
            raw: devWith((r) => (r.openstack.networkCidr = "10.0.0.0/8")),
            message:
                /geoplatform:openstack.networkCidr: got "10.0.0.0\/8", expected a network that does not overlap K3s' pod \(cluster-cidr\) network 10.42.0.0\/16 and service \(service-cidr\) network 10.43.0.0\/16/,
        },
        {
            name: "a network inside K3s' pod CIDR",
            raw: devWith((r) => (r.openstack.networkCidr = "10.42.128.0/24")),
            message:
                /geoplatform:openstack.networkCidr: got "10.42.128.0\/24", expected a network that does not overlap K3s' pod \(cluster-cidr\) network 10.42.0.0\/16$/,
        },
        {
            name: "a VPC on K3s' service CIDR",
            raw: prodWith((r) => (r.aws.vpcCidr = "10.43.0.0/16")),
            message:
                /geoplatform:aws.vpcCidr: got "10.43.0.0\/16", expected a network that does not overlap K3s' service \(service-cidr\) network 10.43.0.0\/16/,
        },
        {
            name: "a VPC CIDR with host bits",
            raw: prodWith((r) => (r.aws.vpcCidr = "10.20.5.0/16")),
            message: /geoplatform:aws.vpcCidr: got "10.20.5.0\/16", expected a network address without host bits: 10.20.0.0\/16/,
        },
        {
            name: "a DNS server that is a name",
            raw: devWith((r) => (r.openstack.dnsNameservers = ["dns.example.org"])),
            message: /geoplatform:openstack.dnsNameservers\[0\]: got "dns.example.org", expected an IP address/,
        },
        {
            name: "empty nodeGroups",
            raw: devWith((r) => (r.nodeGroups = {})),
            message: /geoplatform:nodeGroups: got \{\}, expected a server group and the agent groups system and processing/,
        },
        {
            name: "more Longhorn replicas than storage nodes",
            raw: devWith((r) => (r.platform.longhornReplicas = 3)),
            message:
                /geoplatform:platform.longhornReplicas: got 3, expected at most 1, the storage nodes \(groups labelled node.longhorn.io\/create-default-disk: "true": system: 1\)/,
        },
        {
            name: "Longhorn replicas with no storage node",
            raw: prodWith((r) => delete r.nodeGroups.system.labels["node.longhorn.io/create-default-disk"]),
            message:
                /geoplatform:nodeGroups: got "no node labelled for Longhorn", expected a non-empty group labelled node.longhorn.io\/create-default-disk: "true"/,
        },
        {
            name: "a tainted system group",
            raw: devWith((r) => (r.nodeGroups.system.taints = [{ key: "dedicated", value: "system", effect: "NoExecute" }])),
            message:
                /geoplatform:nodeGroups.system.taints: got \[\{"key":"dedicated","value":"system","effect":"NoExecute"\}\], expected no NoSchedule\/NoExecute taints/,
        },
        {
            name: "a processing taint value the platform does not tolerate",
            raw: prodWith((r) => (r.nodeGroups.processing.taints[0].value = "batch")),
            message:
                /geoplatform:nodeGroups.processing.taints\[0\]: got \{"key":"geoplatform.io\/node-group","value":"batch","effect":"NoSchedule"\}, expected geoplatform.io\/node-group=processing:NoSchedule, the only taint the platform tolerates/,
        },
        {
            name: "a second, untolerated processing taint",
            raw: devWith((r) => r.nodeGroups.processing.taints.push({ key: "nvidia.com/gpu", value: "true", effect: "NoSchedule" })),
            message: /geoplatform:nodeGroups.processing.taints\[1\]: got \{"key":"nvidia.com\/gpu"/,
        },
        {
            name: "apps with no processing nodes",
            raw: devWith((r) => (r.nodeGroups.processing.count = 0)),
            message: /geoplatform:nodeGroups.processing.count: got 0, expected at least 1 node: the enabled apps \(jupyterhub, spark, openeo, geocube, argo\)/,
        },
        {
            name: "a misspelt cloud, with the other cloud's block",
            raw: prodWith((r) => (r.cloud = "AWS")),
            message: /geoplatform:cloud: got "AWS", expected one of openstack \| aws/,
        },
    ];

    for (const { name, raw, message } of badConfigs) {
        it(`rejects ${name}`, () => {
            const problems = problemsOf(raw);
            assert.ok(
                problems.some((p) => message.test(p)),
                `no problem matched ${message}; got:\n${problems.join("\n")}`,
            );
            assert.strictEqual(problems.length, 1, `one mistake, one message; got:\n${problems.join("\n")}`);
        });
    }

    it("reports every problem at once, not just the first", () => {
        const problems = problemsOf(
            devWith((r) => {
                r.cloud = "gcp";
                r.k3sVersion = "latest";
                r.adminCidrs = ["0.0.0.0/0"];
            }),
        );
        assert.ok(problems.length >= 3, problems.join("\n"));
    });

    it("keeps checks that do not build on a refused key", () => {
        const problems = problemsOf(
            devWith((r) => {
                r.apps = { jupyterhub: { singleuserImage: "apache/sedona:latest" } };
                r.nodeGroups.processing.count = 0;
                r.nodeGroups.processing.taints[0].effect = "NoRun";
                r.platform.longhornReplicas = 2;
            }),
        );
        assert.deepStrictEqual(
            problems.map((p) => p.split(":")[1]),
            ["nodeGroups.processing.taints[0].effect", "platform.longhornReplicas", "apps.jupyterhub.singleuserImage", "nodeGroups.processing.count"],
            problems.join("\n"),
        );
    });

    it("reports a leftover image name once, not also as an unknown key", () => {
        const problems = problemsOf(devWith((r) => (r.openstack.image = "Ubuntu 24.04 LTS")));
        assert.deepStrictEqual(problems.length, 1, problems.join("\n"));
    });

    it("fills app settings with the catalog's pinned images and accepts overrides", () => {
        const config = validateConfig(
            devWith((r) => (r.apps = { openeo: { zookeeperImage: "zookeeper:3.9.2" }, geocube: { enabled: false } })),
            "dev",
        );
        assert.strictEqual(config.apps.openeo.zookeeperImage, "zookeeper:3.9.2");
        assert.strictEqual(config.apps.spark.image, IMAGES.spark);
        assert.deepStrictEqual(config.enabledApps, ["jupyterhub", "spark", "openeo", "argo"]);
    });

    it("takes the images this repository builds from imageRegistry, and refuses a registry that is not one", () => {
        const config = validateConfig(
            devWith((r) => Object.assign(r, { imageRegistry: "registry.example.org:5000/geo/team", apps: { spark: { image: "apache/spark:4.0.3" } } })),
            "dev",
        );
        assert.strictEqual(config.apps.jupyterhub.singleuserImage, `registry.example.org:5000/geo/team/geoplatform-notebook:${PROJECT_IMAGES.tag}`);
        assert.strictEqual(config.apps.geocube.apiserverImage, `registry.example.org:5000/geo/team/geoplatform-geocube-apiserver:${GEOCUBE_IMAGES.tag}`);
        assert.strictEqual(config.apps.spark.image, "apache/spark:4.0.3", "an explicit image wins");
        assert.strictEqual(config.apps.openeo.image, IMAGES.openeo, "upstream images do not move");
        assert.strictEqual(
            validateConfig(
                devWith(() => undefined),
                "dev",
            ).apps.jupyterhub.singleuserImage,
            `${DEFAULT_IMAGE_REGISTRY}/geoplatform-notebook:${PROJECT_IMAGES.tag}`,
        );
        for (const bad of ["ghcr.io/Some-Org", "ghcr.io/some-org/", "ghcr.io", "ghcr.io/org/geoplatform-notebook:v1", "", 42]) {
            const problems = problemsOf(devWith((r) => (r.imageRegistry = bad)));
            assert.strictEqual(problems.length, 1, `${JSON.stringify(bad)}: ${problems.join("\n")}`);
            assert.match(problems[0], /^geoplatform:imageRegistry: got .*expected a lower-case registry and path/);
        }
    });

    it("accepts what is close to a mistake but is not one", () => {
        const accepted = [
            devWith((r) => (r.adminCidrs = ["0.0.0.0/1", "2001:db8::/32"])),
            devWith((r) => Object.assign(r, { adminCidrs: ["0.0.0.0/1", "128.0.0.0/1"], allowWorldAdminAccess: true })),
            devWith((r) => (r.openstack.networkCidr = "10.44.0.0/16")),
            devWith((r) => (r.nodeGroups.system.taints = [{ key: "dedicated", value: "system", effect: "PreferNoSchedule" }])),
            devWith((r) => delete r.nodeGroups.processing.taints),
            devWith((r) => {
                r.nodeGroups.processing.count = 0;
                r.apps = Object.fromEntries(APP_NAMES.map((a) => [a, { enabled: false }]));
            }),
            prodWith((r) => (r.platform.longhornReplicas = 2)),
        ];
        for (const raw of accepted) assert.deepStrictEqual(problemsOf(raw), [], JSON.stringify(raw));
    });

    it("accepts a world-open admin CIDR only with the explicit override", () => {
        const config = validateConfig(
            devWith((r) => {
                r.adminCidrs = ["0.0.0.0/0"];
                r.allowWorldAdminAccess = true;
            }),
            "dev",
        );
        assert.deepStrictEqual(config.adminCidrs, ["0.0.0.0/0"]);
    });
});

// Every other VM's `<node>-k3s-release` runs its drain on the first server through the bastion, and its delete dials the
// connection stored in the state (pulumi-command v1.2.1 Delete reads the state): those two VMs roll alone (review F2).
describe("rollNodes: the first server and the bastion roll alone", () => {
    const rolling = (stack: "dev" | "prod", rollNodes: unknown[]) => problemsOf((stack === "dev" ? devWith : prodWith)((r) => (r.rollNodes = rollNodes)));
    const alone = (i: number, name: string, others: string, why: RegExp) =>
        new RegExp(
            `^geoplatform:rollNodes\\[${i}\\]: got "${name}", expected alone, in its own run \\(rollNodes also lists ${others}\\): ${why.source}, ` +
                `and a delete dials the connection stored in the state, the old VM's address and host key; .*every later up fails on them .*` +
                `roll ${name} first, then the others$`,
        );
    const FIRST = /every other VM's drain before its replacement \(<node>-k3s-release\) runs on the first server/;
    const BASTION = /every node's drain before its replacement \(<node>-k3s-release\) connects through the bastion/;

    it("prod: the first server with an agent is refused, one message on the first server's entry", () => {
        const problems = rolling("prod", ["prod-system-2", "prod-control-plane-1"]);
        assert.strictEqual(problems.length, 1, problems.join("\n"));
        assert.match(problems[0], alone(1, "prod-control-plane-1", "prod-system-2", FIRST));
    });

    it("prod and dev: the bastion with a node is refused, one message on the bastion's entry", () => {
        const prod = rolling("prod", ["prod-bastion", "prod-processing-1", "prod-system-3"]);
        assert.strictEqual(prod.length, 1, prod.join("\n"));
        assert.match(prod[0], alone(0, "prod-bastion", "prod-processing-1, prod-system-3", BASTION));
        const dev = rolling("dev", ["dev-processing-1", "dev-bastion"]);
        assert.strictEqual(dev.length, 1, dev.join("\n"));
        assert.match(dev[0], alone(1, "dev-bastion", "dev-processing-1", BASTION));
    });

    it("prod: the first server and the bastion together are two mistakes, one message each", () => {
        const problems = rolling("prod", ["prod-bastion", "prod-control-plane-1"]);
        assert.strictEqual(problems.length, 2, problems.join("\n"));
        assert.match(problems[0], alone(0, "prod-bastion", "prod-control-plane-1", BASTION));
        assert.match(problems[1], alone(1, "prod-control-plane-1", "prod-bastion", FIRST));
    });

    it("prod: the first server with another server is the first server's mistake only, not also one server per run", () => {
        const problems = rolling("prod", ["prod-control-plane-1", "prod-control-plane-2"]);
        assert.strictEqual(problems.length, 1, problems.join("\n"));
        assert.match(problems[0], alone(0, "prod-control-plane-1", "prod-control-plane-2", FIRST));
    });

    it("accepts each alone, and another server or any agents together", () => {
        for (const rollNodes of [["prod-control-plane-1"], ["prod-bastion"], ["prod-control-plane-3", "prod-system-1", "prod-processing-2"]]) {
            assert.deepStrictEqual(rolling("prod", rollNodes), [], rollNodes.join(", "));
        }
        assert.deepStrictEqual(rolling("dev", ["dev-bastion"]), []);
        assert.deepStrictEqual(rolling("dev", ["dev-system-1", "dev-processing-1"]), []);
    });

    it("refuses a second VM of one node group per run, one message each: two ingress nodes or two Longhorn replica holders would be out at once", () => {
        const problems = rolling("prod", ["prod-system-1", "prod-processing-1", "prod-system-3", "prod-system-2", "prod-processing-3"]);
        const group = (i: number, name: string, g: string, first: string) =>
            `geoplatform:rollNodes[${i}]: got "${name}", expected one VM of node group ${g} per run (${first}): the group's VMs are replaced one after the other, ` +
            `the next as soon as the previous VM exists, before it runs K3s again, so two of its nodes would be out at once`;
        assert.deepStrictEqual(problems, [
            group(2, "prod-system-3", "system", "rollNodes[0] is prod-system-1"),
            group(3, "prod-system-2", "system", "rollNodes[0] is prod-system-1"),
            group(4, "prod-processing-3", "processing", "rollNodes[1] is prod-processing-1"),
        ]);
        assert.deepStrictEqual(rolling("dev", ["dev-system-1", "dev-processing-1"]), [], "one of each group");
    });

    it("counts only other VMs of the stack: a repeat or an unknown name is its own mistake, not the first server's", () => {
        assert.deepStrictEqual(rolling("prod", ["prod-bastion", "prod-bastion"]), ['geoplatform:rollNodes[1]: got "prod-bastion", expected each VM once']);
        const unknown = rolling("prod", ["prod-control-plane-1", "prod-control-plane-9"]);
        assert.strictEqual(unknown.length, 1, unknown.join("\n"));
        assert.match(unknown[0], /rollNodes\[1\]: got "prod-control-plane-9", expected the name of a VM of stack prod/);
    });

    it("dev: its only server with an agent stays one message, the only-server one", () => {
        const problems = rolling("dev", ["dev-control-plane-1", "dev-system-1"]);
        assert.strictEqual(problems.length, 1, problems.join("\n"));
        assert.match(problems[0], /rollNodes\[0\]: got "dev-control-plane-1", expected not the stack's only server/);
    });
});

describe("a refused config registers no resource", () => {
    // Before validation knew these, `nodeGroups: {}` failed in infra after 30 registrations
    // ("Cannot read properties of undefined (reading 'privateIp')").
    const system = (readStackFile("dev")["geoplatform:nodeGroups"] as any).system;
    const bad: Record<string, Record<string, unknown>> = {
        "empty nodeGroups": { "geoplatform:nodeGroups": {} },
        "the world in two halves": { "geoplatform:adminCidrs": ["0.0.0.0/1", "128.0.0.0/1"] },
        "a tainted system group": {
            "geoplatform:nodeGroups": {
                ...(readStackFile("dev")["geoplatform:nodeGroups"] as object),
                system: { ...system, taints: [{ key: "a", value: "b", effect: "NoSchedule" }] },
            },
        },
        "the bastion rolled beside a node": { "geoplatform:rollNodes": ["dev-bastion", "dev-system-1"] },
        "more Longhorn replicas than storage nodes": {
            "geoplatform:platform": { ...(readStackFile("dev")["geoplatform:platform"] as object), longhornReplicas: 2 },
        },
    };
    for (const [name, patch] of Object.entries(bad)) {
        it(`dev with ${name}`, async () => {
            const error = await runStack("dev", patch).then(
                () => assert.fail("the program ran"),
                (e) => e,
            );
            assert.ok(error instanceof ConfigError, String(error));
            assert.strictEqual(error.problems.length, 1, error.message);
            assert.deepStrictEqual(
                (error as unknown as { recorded: { type: string }[] }).recorded.map((r) => r.type),
                ["pulumi:pulumi:Stack"],
                "only the stack itself, which the engine registers before the program",
            );
        });
    }
});

describe("CIDR helpers", () => {
    const cidr = (s: string) => parseCidr(s) as Cidr;

    it("parses with node:net: no octet over 255, no zone, prefix within the family", () => {
        for (const bad of ["203.0.113.300/24", "10.0.0.0/33", "::/129", "fe80::1%eth0/64", "10.0.0.0", "10.0.0.0/", "10.0.0/8", "010.0.0.0/8"])
            assert.strictEqual(parseCidr(bad), undefined, bad);
        assert.deepStrictEqual(
            { ...cidr("::ffff:10.1.2.0/120"), value: undefined },
            { family: "ipv6", address: "::ffff:10.1.2.0", prefix: 120, value: undefined },
        );
        assert.strictEqual(cidr("::ffff:10.1.2.0/120").value, (0xffffn << 32n) | 0x0a010200n);
    });

    it("finds host bits and the network they belong to", () => {
        assert.ok(hasHostBits(cidr("203.0.113.7/24")) && !hasHostBits(cidr("203.0.113.0/24")));
        assert.strictEqual(networkOf(cidr("203.0.113.7/24")), "203.0.113.0/24");
        assert.strictEqual(networkOf(cidr("2001:db8:0:0:1::1/64")), "2001:db8::/64");
        assert.strictEqual(networkOf(cidr("2001:db8:1:2:3:4:5:6/128")), "2001:db8:1:2:3:4:5:6/128");
    });

    it("tells when CIDRs together cover a whole address space", () => {
        assert.deepStrictEqual(worldCoveredBy(["0.0.0.0/1", "128.0.0.0/1"].map(cidr)), ["ipv4"]);
        assert.deepStrictEqual(worldCoveredBy(["128.0.0.0/1", "0.0.0.0/2", "64.0.0.0/3", "96.0.0.0/3", "::/0"].map(cidr)), ["ipv4", "ipv6"]);
        assert.deepStrictEqual(worldCoveredBy(["0.0.0.0/1", "128.0.0.0/2", "224.0.0.0/3"].map(cidr)), [], "192.0.0.0/3 is missing");
        assert.deepStrictEqual(worldCoveredBy(["0.0.0.0/1", "128.0.0.0/1"].map(cidr).map((c) => ({ ...c, prefix: 2 }))), []);
    });

    it("tells overlapping networks apart from neighbours", () => {
        assert.ok(cidrsOverlap(cidr("10.0.0.0/8"), cidr("10.42.0.0/16")));
        assert.ok(cidrsOverlap(cidr("10.42.128.0/24"), cidr("10.42.0.0/16")));
        assert.ok(!cidrsOverlap(cidr("10.41.0.0/16"), cidr("10.42.0.0/16")));
        assert.ok(!cidrsOverlap(cidr("::/0"), cidr("10.42.0.0/16")), "families never overlap");
    });

    it("carves subnets like cidrsubnet()", () => {
        assert.strictEqual(ipv4Subnet("10.20.0.0/16", 4, 0), "10.20.0.0/20");
        assert.strictEqual(ipv4Subnet("10.20.0.0/16", 4, 9), "10.20.144.0/20");
        assert.throws(() => ipv4Subnet("10.20.0.0/16", 4, 16), /no subnet #16/);
    });

    it("recognises world CIDRs", () => {
        assert.ok(isWorldCidr("0.0.0.0/0"));
        assert.ok(isWorldCidr("::/0"));
        assert.ok(!isWorldCidr("10.0.0.0/8"));
    });
});
