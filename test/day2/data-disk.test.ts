import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LONGHORN_DATA_PATH, LONGHORN_SCHEDULING } from "../../config/catalog";
import { ConfigError } from "../../config/checker";
import { longhornFit, longhornVolumes } from "../../config/storage";
import { validateConfig } from "../../config/validate";
import { dataDeviceLinks, renderDataDiskScript } from "../../infra/data-disk";
import { chartOf } from "../harness/releases";
import { RecordedResource, runStack, sharedStackRun, StackRun } from "../harness/run-stack";
import { rawGeoplatformConfig, readStackFile, REPO_ROOT, StackName } from "../harness/stack-config";
import { planChanges } from "./plan";

const VOLUME = { dev: "openstack:blockstorage/volume:Volume", prod: "aws:ebs/volume:Volume" } as const;
const ATTACH = { dev: "openstack:compute/volumeAttach:VolumeAttach", prod: "aws:ec2/volumeAttachment:VolumeAttachment" } as const;
const VM = { dev: "openstack:compute/instance:Instance", prod: "aws:ec2/instance:Instance" } as const;
const ofType = (run: StackRun, type: string) => run.resources.filter((r) => r.type === type);

function problemsOf(stack: StackName, edit: (raw: any) => void): string[] {
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

describe("day 2: Longhorn data volumes", function () {
    describe("config validation", () => {
        it("pins Longhorn 1.12.1's scheduling defaults (longhorn-manager v1.12.1 types/setting.go)", () => {
            assert.deepStrictEqual(LONGHORN_SCHEDULING, {
                storageReservedPercentageForDefaultDisk: 30,
                storageMinimalAvailablePercentage: 25,
                storageOverProvisioningPercentage: 100,
                replicaSoftAntiAffinity: false,
            });
        });

        it("counts every volume the stack asks for: prod needs 1015 GiB per storage node with 3 replicas, dev 185 GiB", () => {
            const prod = validateConfig(rawGeoplatformConfig("prod"), "prod");
            assert.deepStrictEqual(
                longhornVolumes(prod).map((v) => `${v.name}:${v.count}x${v.sizeGb}`),
                ["postgres:3x50", "objectStorage:1x500", "prometheus:2x100", "loki:3x20", "geocube:1x100", "zookeeper:1x5"],
            );
            assert.deepStrictEqual(longhornFit(prod, 1700), { perNodeGb: 1015, usablePercent: 68.6, usableGb: 1166, missingGb: 0, minimumDiskGb: 1480 });
            // The root disks the issue found: 150 GB holds about 100 GiB of replicas.
            assert.strictEqual(longhornFit(prod, 150).missingGb, 1015 - 102);
            const dev = validateConfig(rawGeoplatformConfig("dev"), "dev");
            assert.strictEqual(longhornFit(dev, 300).perNodeGb, 185);
            // Fewer replicas than storage nodes: a node holds its even share, at least the largest volume.
            const spread = validateConfig(
                { ...rawGeoplatformConfig("prod"), platform: { ...(rawGeoplatformConfig("prod").platform as object), longhornReplicas: 1 } },
                "prod",
            );
            assert.strictEqual(longhornFit(spread, 1500).perNodeGb, 500);
        });

        it("accepts both stack files' data volumes", () => {
            for (const stack of ["dev", "prod"] as const)
                assert.deepStrictEqual(
                    problemsOf(stack, () => undefined),
                    [],
                );
        });

        it("refuses volumes that do not fit, saying how much is missing", () => {
            const problems = problemsOf("prod", (r) => (r.nodeGroups.system.dataDiskGb = 1000));
            assert.strictEqual(problems.length, 1, problems.join("\n"));
            assert.match(
                problems[0],
                /^geoplatform:nodeGroups.system.dataDiskGb: got 1000, expected at least 1480: each storage node must hold 1015 GiB of replicas \(postgres 3x50, objectStorage 500, prometheus 2x100, loki 3x20, geocube 100, zookeeper 5 GiB, 3 replica\(s\) over 3 storage node\(s\)\), .* which is 686 GiB: 329 GiB missing per node$/,
            );
            // A larger MinIO volume is what pushes it over.
            assert.match(
                problemsOf("dev", (r) => (r.platform.objectStorage.storageGb = 200)).join("\n"),
                /nodeGroups.system.dataDiskGb: got 300, expected at least 489: .*130 GiB missing per node/,
            );
        });

        it("refuses a storage group without a data volume, a data volume elsewhere, and more replicas than storage nodes", () => {
            assert.deepStrictEqual(
                problemsOf("dev", (r) => delete r.nodeGroups.system.dataDiskGb),
                [
                    'geoplatform:nodeGroups.system.dataDiskGb: got nothing, expected the size (GiB) of the dedicated Longhorn data volume each node of this group gets (it is labelled node.longhorn.io/create-default-disk: "true"); Longhorn would otherwise fill the root disk',
                ],
            );
            assert.match(
                problemsOf("dev", (r) => (r.nodeGroups.processing.dataDiskGb = 100)).join("\n"),
                /^geoplatform:nodeGroups.processing.dataDiskGb: got 100, expected 0: only groups labelled/,
            );
            assert.deepStrictEqual(
                problemsOf("dev", (r) => (r.platform.longhornReplicas = 3)),
                [
                    'geoplatform:platform.longhornReplicas: got 3, expected at most 1, the storage nodes (groups labelled node.longhorn.io/create-default-disk: "true": system: 1); each replica needs its own node',
                ],
            );
            assert.match(
                problemsOf("dev", (r) => delete r.nodeGroups.system.labels["node.longhorn.io/create-default-disk"]).join("\n"),
                /geoplatform:nodeGroups: got "no node labelled for Longhorn"/,
            );
        });

        it("reports no capacity problem on top of a malformed key", () => {
            const problems = problemsOf("prod", (r) => (r.platform.postgres.storageGb = "lots"));
            assert.deepStrictEqual(problems.length, 1, problems.join("\n"));
        });
    });

    for (const stack of ["dev", "prod"] as const) {
        describe(`${stack}: the volumes`, () => {
            let run: StackRun;
            before(async () => (run = await sharedStackRun(stack)));

            it("gives each storage node one protected, retained data volume of the group's size, and no other node any", () => {
                const config = validateConfig(rawGeoplatformConfig(stack), stack);
                const volumes = ofType(run, VOLUME[stack]);
                const storageVms = ofType(run, VM[stack]).filter((vm) => /-system-\d+$/.test(vm.name));
                assert.deepStrictEqual(volumes.map((v) => v.name).sort(), storageVms.map((vm) => `${vm.name}-data`).sort());
                for (const v of volumes) {
                    assert.strictEqual(v.inputs.size, config.nodeGroups.system.dataDiskGb, v.name);
                    assert.deepStrictEqual([v.options.protect, v.options.retainOnDelete], [true, true], v.name);
                    if (stack === "prod") assert.deepStrictEqual([v.inputs.type, v.inputs.encrypted], ["gp3", true]);
                    else assert.strictEqual(v.inputs.enableOnlineResize, true);
                }
            });

            it("attaches each volume to its VM, old attachment first on a replacement; prod's volume in the VM's zone", () => {
                const attachments = ofType(run, ATTACH[stack]);
                assert.strictEqual(attachments.length, ofType(run, VOLUME[stack]).length);
                for (const a of attachments) {
                    const vm = a.name.replace(/-data$/, "");
                    assert.strictEqual(a.inputs.instanceId, `${vm}-id`);
                    assert.strictEqual(a.inputs.volumeId, `${vm}-data-id`);
                    assert.strictEqual(a.options.deleteBeforeReplace, true, a.name);
                    if (stack === "prod") {
                        assert.strictEqual(a.inputs.stopInstanceBeforeDetaching, true);
                        const volume = ofType(run, VOLUME[stack]).find((v) => v.name === a.name) as RecordedResource;
                        const instance = ofType(run, VM[stack]).find((i) => i.name === vm) as RecordedResource;
                        assert.ok(instance.inputs.subnetId.includes(volume.inputs.availabilityZone), `${vm} and its volume share a zone`);
                    }
                }
            });

            it("mounts the volume from the storage VMs' user data, by the volume's own id", () => {
                for (const vm of ofType(run, VM[stack]).filter((i) => /-system-\d+$/.test(i.name))) {
                    const links = dataDeviceLinks(stack === "dev" ? "openstack" : "aws", `${vm.name}-data-id`).join(" ");
                    assert.ok(vm.inputs.userData.includes(`DEVICE_LINKS='${links}'`), vm.name);
                    assert.ok(vm.inputs.userData.includes(`MOUNT_POINT='${LONGHORN_DATA_PATH}'`), vm.name);
                }
                for (const vm of ofType(run, VM[stack]).filter((i) => /-(processing|control-plane)-\d+$/.test(i.name)))
                    assert.strictEqual(vm.inputs.userData, undefined, vm.name);
            });
        });
    }

    it("Longhorn is told the same data path and scheduling settings the check uses", async () => {
        const run = await sharedStackRun("prod");
        const release = run.resources.find((r) => r.type === "kubernetes:helm.sh/v3:Release" && chartOf(r) === "longhorn") as RecordedResource;
        const settings = release.inputs.values.defaultSettings;
        assert.strictEqual(settings.defaultDataPath, `${LONGHORN_DATA_PATH}/`);
        for (const [k, v] of Object.entries(LONGHORN_SCHEDULING)) assert.strictEqual(settings[k], v, k);
    });

    describe("two runs", () => {
        it("prod: replacing one storage VM on purpose replaces its attachment and keeps its volume", async () => {
            const before = await sharedStackRun("prod");
            const urn = (type: string, name: string) => (before.resources.find((r) => r.type === type && r.name === name) as RecordedResource).urn;
            const plan = planChanges(before, before, [urn(VM.prod, "prod-system-2")]);
            // Of the cloud resources (the K3s commands that set the new VM up again: test/day2/infra-changes.test.ts).
            const cloud = plan.replacedUrns.filter((u) => /\$(aws|openstack):/.test(u));
            // prod's system nodes are its ingress nodes: the Elastic IP's association goes with the VM, the address stays.
            const eipAssociation = urn("aws:ec2/eipAssociation:EipAssociation", "prod-system-2-ip");
            assert.deepStrictEqual(cloud.sort(), [urn(VM.prod, "prod-system-2"), urn(ATTACH.prod, "prod-system-2-data"), eipAssociation].sort());
            assert.ok(!plan.replacedUrns.includes(urn(VOLUME.prod, "prod-system-2-data")));
            assert.ok(!plan.replacedUrns.includes(urn("aws:ec2/eip:Eip", "prod-system-2-ip")));
        });

        it("dev: a larger data volume grows it in place, replacing nothing", async () => {
            const before = await sharedStackRun("dev");
            const groups = structuredClone(readStackFile("dev")["geoplatform:nodeGroups"]) as any;
            groups.system.dataDiskGb = 400;
            const after = await runStack("dev", { "geoplatform:nodeGroups": groups });
            const plan = planChanges(before, after);
            assert.deepStrictEqual(plan.replace, [], JSON.stringify(plan.reasons));
            assert.ok(plan.update.includes("dev-system-1-data"));
            assert.deepStrictEqual(plan.delete, []);
        });
    });
});

/** The mount script run by bash in a temporary root, with fake blkid, mkfs.ext4, mount, mountpoint. */
describe("day 2: the data-volume mount script", () => {
    const FAKES: Record<string, string> = {
        // blkid -p: the exit status in $SANDBOX/probe (2: nothing found), else the "formatted" marker decides.
        blkid: `echo "blkid $*" >>"$SANDBOX/calls"
case "$1" in
  -p) if [ -f "$SANDBOX/probe" ]; then exit "$(cat "$SANDBOX/probe")"; fi; [ -f "$SANDBOX/formatted" ] || exit 2 ;;
  -s) if [ "$2" = TYPE ]; then cat "$SANDBOX/formatted"; else echo 0d3c-uuid; fi ;;
esac`,
        "mkfs.ext4": `echo "mkfs.ext4 $*" >>"$SANDBOX/calls"; echo ext4 >"$SANDBOX/formatted"`,
        mountpoint: `[ -f "$SANDBOX/mounted" ]`,
        mount: `echo "mount $*" >>"$SANDBOX/calls"; touch "$SANDBOX/mounted"`,
        sleep: `exec /bin/sleep 0.2`,
    };
    let dir: string;
    const root = () => path.join(dir, "root");
    const calls = () => {
        const file = path.join(dir, "calls");
        const lines = fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim().split("\n") : [];
        fs.rmSync(file, { force: true });
        return lines;
    };
    const run = (waitSeconds = 5) =>
        spawnSync("bash", ["-s"], {
            input: renderDataDiskScript({
                DEVICE_LINKS: "/dev/disk/by-id/virtio-0123456789abcdef0123 /dev/xvdf",
                MOUNT_POINT: LONGHORN_DATA_PATH,
                WAIT_SECONDS: String(waitSeconds),
                GEOPLATFORM_ROOT: root(),
            }),
            env: { PATH: `${dir}/bin:/usr/bin:/bin`, SANDBOX: dir },
            encoding: "utf8",
        });
    const attach = (link = "dev/xvdf") => {
        fs.mkdirSync(path.dirname(path.join(root(), link)), { recursive: true });
        fs.writeFileSync(path.join(root(), link), "");
    };
    const fstab = () => fs.readFileSync(path.join(root(), "etc/fstab"), "utf8");

    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "geoplatform-disk-"));
        fs.mkdirSync(path.join(dir, "bin"));
        fs.mkdirSync(path.join(root(), "etc"), { recursive: true });
        fs.writeFileSync(path.join(root(), "etc/fstab"), "LABEL=cloudimg-rootfs / ext4 defaults 0 1\n");
        for (const [name, body] of Object.entries(FAKES)) fs.writeFileSync(path.join(dir, "bin", name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("is shellcheck-clean strict bash", () => {
        const file = path.join(REPO_ROOT, "infra/scripts/mount-data-disk.sh");
        execFileSync("shellcheck", ["--shell=bash", file]);
        assert.match(fs.readFileSync(file, "utf8"), /^#!\/usr\/bin\/env bash\n[\s\S]*^set -euo pipefail$/m);
    });

    it("formats a new volume once, writes one fstab line and mounts it; a second run changes nothing", () => {
        attach();
        const first = run();
        assert.strictEqual(first.status, 0, first.stderr);
        const device = path.join(root(), "dev/xvdf");
        assert.deepStrictEqual(
            calls().filter((c) => !c.startsWith("blkid")),
            [`mkfs.ext4 -q -m 0 -T largefile -L longhorn-data ${device}`, `mount ${device} ${root()}${LONGHORN_DATA_PATH}`],
        );
        assert.match(fstab(), new RegExp(`^UUID=0d3c-uuid ${LONGHORN_DATA_PATH} ext4 defaults,nofail,x-systemd.device-timeout=60s 0 2$`, "m"));
        const second = run();
        assert.strictEqual(second.status, 0, second.stderr);
        assert.deepStrictEqual(
            calls().filter((c) => !c.startsWith("blkid")),
            [],
        );
        assert.strictEqual(
            fstab()
                .split("\n")
                .filter((l) => l.includes(LONGHORN_DATA_PATH)).length,
            1,
        );
    });

    it("finds the volume under its by-id name and never formats one that holds a filesystem", () => {
        attach("dev/disk/by-id/virtio-0123456789abcdef0123");
        fs.writeFileSync(path.join(dir, "formatted"), "ext4");
        const result = run();
        assert.strictEqual(result.status, 0, result.stderr);
        assert.ok(!calls().some((c) => c.startsWith("mkfs")));
        assert.match(result.stdout, /virtio-0123456789abcdef0123 \(UUID=0d3c-uuid\) mounted/);
    });

    it("fails after its deadline when the volume is never attached", () => {
        const result = run(1);
        assert.notStrictEqual(result.status, 0);
        assert.match(result.stderr, /data volume not attached within 1s \(looked for: \/dev\/disk\/by-id\/virtio-0123456789abcdef0123 \/dev\/xvdf\)/);
    });

    it("refuses to format when blkid cannot probe, to mount a foreign filesystem, or to hide data already on the root disk", () => {
        attach();
        fs.writeFileSync(path.join(dir, "probe"), "4");
        let result = run();
        assert.notStrictEqual(result.status, 0);
        assert.match(result.stderr, /cannot probe .* \(blkid status 4\): not formatting it/);
        assert.ok(!calls().some((c) => c.startsWith("mkfs")));

        fs.rmSync(path.join(dir, "probe"));
        fs.writeFileSync(path.join(dir, "formatted"), "xfs");
        result = run();
        assert.match(result.stderr, /holds xfs, not the ext4 data filesystem/);

        fs.writeFileSync(path.join(dir, "formatted"), "ext4");
        fs.mkdirSync(path.join(root(), LONGHORN_DATA_PATH, "replicas"), { recursive: true });
        result = run();
        assert.notStrictEqual(result.status, 0);
        assert.match(result.stderr, /already holds data on the root disk/);
        assert.ok(!calls().some((c) => c.startsWith("mount")));
    });

    it("refuses an fstab that mounts another filesystem on the data path", () => {
        attach();
        fs.appendFileSync(path.join(root(), "etc/fstab"), `UUID=other ${LONGHORN_DATA_PATH} ext4 defaults 0 2\n`);
        const result = run();
        assert.notStrictEqual(result.status, 0);
        assert.match(result.stderr, /already mounts UUID=other on \/var\/lib\/longhorn, not this volume/);
    });
});
