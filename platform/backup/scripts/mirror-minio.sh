#!/bin/sh
# Mirrors each MinIO bucket into the stack's backup bucket, outside the cluster (docs/restore.md, "MinIO"). Runs in the
# pinned mc image (its /bin/sh, as the MinIO chart's own jobs do). mc reads both endpoints and their keys from
# MC_HOST_src and MC_HOST_backup, which come from a Secret: nothing secret is on a command line or in this file.
# `mc mirror --overwrite` copies new and changed objects and leaves in the backup what MinIO deleted, so a deletion
# (by mistake or by an attacker) does not reach the backup; the bucket's noncurrent-version expiry bounds its growth.
# Every bucket is tried; the job fails, and names them, if any failed.
#   BUCKETS  the MinIO buckets, space-separated
#   DEST     mc target prefix, e.g. backup/<backup bucket>/minio
set -eu

: "${BUCKETS:?}" "${DEST:?}"
failed=""
for bucket in $BUCKETS; do
    if mc mirror --overwrite "src/$bucket" "$DEST/$bucket"; then
        echo "geoplatform: mirrored $bucket to $DEST/$bucket"
    else
        failed="$failed $bucket"
    fi
done
if [ -n "$failed" ]; then
    echo "geoplatform: mirroring failed for:$failed" >&2
    exit 1
fi
