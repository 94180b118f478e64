#!/usr/bin/env bash
# cloud-init user data of a storage node: formats its dedicated Longhorn data
# volume (only if it holds no filesystem or other signature) and mounts it on
# Longhorn's data path, before K3s and Longhorn start (the K3s install waits
# for cloud-init). Runs again safely: nothing is formatted twice, the fstab
# line is written once, a mounted volume is left alone. Fails, and so fails
# cloud-init and the K3s install, rather than let Longhorn fill the root disk.
#   DEVICE_LINKS      space-separated paths the attached volume appears as
#   MOUNT_POINT       Longhorn's data path
#   WAIT_SECONDS      how long to wait for the volume to be attached
#   GEOPLATFORM_ROOT  prefix of every path (tests only; empty on a node)
set -euo pipefail

: "${DEVICE_LINKS:?}" "${MOUNT_POINT:?}" "${WAIT_SECONDS:?}"
root=${GEOPLATFORM_ROOT:-}
mount_dir=$root$MOUNT_POINT
fstab=$root/etc/fstab
deadline=$((SECONDS + WAIT_SECONDS))

# The volume is attached after the VM boots: wait for it, within a deadline.
device=""
while [[ -z $device ]]; do
    for link in $DEVICE_LINKS; do
        if [[ -e $root$link ]]; then
            device=$root$link
            break
        fi
    done
    if [[ -z $device ]]; then
        if ((SECONDS >= deadline)); then
            echo "data volume not attached within ${WAIT_SECONDS}s (looked for: $DEVICE_LINKS)" >&2
            exit 1
        fi
        sleep 5
    fi
done

# blkid -p exits 2 when it finds no signature at all: only then is the volume new.
status=0
blkid -p "$device" >/dev/null 2>&1 || status=$?
case $status in
    0) ;;
    2) timeout 600 mkfs.ext4 -q -m 0 -T largefile -L longhorn-data "$device" ;;
    *)
        echo "cannot probe $device (blkid status $status): not formatting it" >&2
        exit 1
        ;;
esac
fs_type=$(blkid -s TYPE -o value "$device")
if [[ $fs_type != ext4 ]]; then
    echo "$device holds $fs_type, not the ext4 data filesystem: not mounting it" >&2
    exit 1
fi
uuid=$(blkid -s UUID -o value "$device")

# One fstab line for the mount point; nofail keeps a node bootable without its volume.
existing=$(awk -v dir="$MOUNT_POINT" '$2 == dir { print $1 }' "$fstab" 2>/dev/null || true)
if [[ -z $existing ]]; then
    echo "UUID=$uuid $MOUNT_POINT ext4 defaults,nofail,x-systemd.device-timeout=60s 0 2" >>"$fstab"
elif [[ $existing != "UUID=$uuid" ]]; then
    echo "$fstab already mounts $existing on $MOUNT_POINT, not this volume (UUID=$uuid)" >&2
    exit 1
fi

mkdir -p "$mount_dir"
if ! mountpoint -q "$mount_dir"; then
    # Mounting over data already there would hide it from Longhorn.
    if [[ -n $(ls -A "$mount_dir") ]]; then
        echo "$MOUNT_POINT already holds data on the root disk: move it before mounting the data volume" >&2
        exit 1
    fi
    timeout 120 mount "$device" "$mount_dir"
fi
echo "data volume $device (UUID=$uuid) mounted on $MOUNT_POINT"
