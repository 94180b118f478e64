import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { LONGHORN_DATA_PATH } from "../config/catalog";

/** How long cloud-init waits for the data volume to be attached after boot. */
export const DATA_DISK_WAIT_SECONDS = 900;

/** Where the attachment puts the volume (AWS device name; Xen instances show it as /dev/xvdf). */
export const AWS_DATA_DEVICE = "/dev/sdf";

/**
 * Paths the attached volume appears under on the node, by udev's
 * persistent-storage names: on Nitro instances an NVMe disk whose serial is
 * the volume id without its dash; on KVM (OpenStack) a virtio disk whose serial
 * is the volume id cut to 20 characters, or a virtio-scsi disk.
 */
export function dataDeviceLinks(cloud: "aws" | "openstack", volumeId: string): string[] {
    if (cloud === "aws") return [`/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${volumeId.replace("-", "")}`, "/dev/xvdf", AWS_DATA_DEVICE];
    return [`/dev/disk/by-id/virtio-${volumeId.slice(0, 20)}`, `/dev/disk/by-id/scsi-0QEMU_QEMU_HARDDISK_${volumeId}`];
}

function scriptFile(): string {
    const candidates = [path.join(__dirname, "scripts"), path.resolve(__dirname, "../../infra/scripts")];
    const found = candidates.find((dir) => fs.existsSync(path.join(dir, "mount-data-disk.sh")));
    if (!found) throw new Error(`mount-data-disk.sh not found in ${candidates.join(" or ")}`);
    return path.join(found, "mount-data-disk.sh");
}

const shellQuote = (value: string) => `'${value.replace(/'/g, `'"'"'`)}'`;

/** The script as cloud-init runs it (once, at first boot): its inputs assigned after the shebang. */
export function renderDataDiskScript(vars: Record<string, string>): string {
    const [shebang, ...body] = fs.readFileSync(scriptFile(), "utf8").split("\n");
    return [shebang, ...Object.entries(vars).map(([k, v]) => `${k}=${shellQuote(v)}`), ...body].join("\n");
}

/** User data of a storage node: mount its data volume on Longhorn's data path. */
export function dataDiskUserData(cloud: "aws" | "openstack", volumeId: pulumi.Input<string>): pulumi.Output<string> {
    return pulumi.output(volumeId).apply((id) =>
        renderDataDiskScript({
            DEVICE_LINKS: dataDeviceLinks(cloud, id).join(" "),
            MOUNT_POINT: LONGHORN_DATA_PATH,
            WAIT_SECONDS: String(DATA_DISK_WAIT_SECONDS),
        }),
    );
}
