#!/usr/bin/env bash
# Restores the first server's embedded etcd from a snapshot in the backup bucket, once (docs/restore.md, "The whole
# cluster into new VMs"). K3s reads the bucket, its keys and the token from /etc/rancher/k3s/config.yaml (mode 0600,
# written by install-k3s.sh), so nothing secret is on this command line: `k3s server --cluster-reset
# --cluster-reset-restore-path=<snapshot>` with `etcd-s3` set restores the named object from S3, resets membership
# to this one member and exits; K3s is then started normally. A marker records the snapshot restored: the same
# snapshot again does nothing, another one is refused (a reset throws away everything written since).
# Runs as root; inputs come as variables set above it.
#   SNAPSHOT        snapshot name in the bucket (k3s etcd-snapshot ls), e.g. etcd-snapshot-prod-control-plane-1-1764547200.zip
#   RESTORE_BUCKET  bucket to read it from when not the one in config.yaml; empty for that one
#   GEOPLATFORM_ROOT  filesystem prefix, empty on nodes (tests point it elsewhere)
#   RESET_TIMEOUT, START_TIMEOUT  seconds; defaults below (tests shorten them)
set -euo pipefail

: "${SNAPSHOT:?}"
restore_bucket=${RESTORE_BUCKET:-}
root=${GEOPLATFORM_ROOT:-}
state_dir="$root/var/lib/geoplatform"
marker="$state_dir/etcd-restored"
log="$state_dir/etcd-restore.log"
reset_timeout=${RESET_TIMEOUT:-900}
start_timeout=${START_TIMEOUT:-600}

fail() {
    echo "geoplatform: etcd restore: $*" >&2
    exit 1
}

if [[ -f $marker ]]; then
    done_from=$(cat "$marker")
    if [[ $done_from == "$SNAPSHOT" ]]; then
        echo "geoplatform: etcd already restored from $SNAPSHOT"
        exit 0
    fi
    fail "this cluster was restored from $done_from; restoring $SNAPSHOT would reset it again and lose everything since. To do that deliberately, remove $marker on this server and run pulumi up again"
fi

mkdir -p "$state_dir"
timeout 120 systemctl stop k3s || fail "systemctl stop k3s failed or took over 120 s"

args=(server --cluster-reset "--cluster-reset-restore-path=$SNAPSHOT")
[[ -n $restore_bucket ]] && args+=("--etcd-s3-bucket=$restore_bucket")
status=0
timeout "$reset_timeout" k3s "${args[@]}" >"$log" 2>&1 || status=$?
# K3s logs this once the restored member is the only one, then exits 0 (k3s-io/k3s pkg/etcd/etcd.go, Reset: "... restart
# without --cluster-reset flag now", then os.Exit(0)); any other end is a failure.
if [[ $status -ne 0 ]] || ! grep -q "restart without --cluster-reset flag now" "$log"; then
    tail -n 30 "$log" >&2 || true
    # The fresh cluster K3s bootstrapped before the restore is still on disk: start it again, so the run can be retried.
    timeout "$start_timeout" systemctl start k3s || true
    fail "k3s --cluster-reset from $SNAPSHOT failed (status $status, log above and in $log); K3s started on its previous data, the next run retries"
fi

timeout "$start_timeout" systemctl start k3s || fail "K3s did not start within $start_timeout s after the restore; see journalctl -u k3s"
deadline=$((SECONDS + start_timeout))
# Each call bounded too: a half-started API server can accept the connection and never answer.
until timeout 10 k3s kubectl get --raw /readyz >/dev/null 2>&1; do
    ((SECONDS < deadline)) || fail "the API server is not ready $start_timeout s after the restore from $SNAPSHOT"
    sleep 5
done
echo "$SNAPSHOT" >"$marker"
echo "geoplatform: etcd restored from $SNAPSHOT${restore_bucket:+ in bucket $restore_bucket}"
