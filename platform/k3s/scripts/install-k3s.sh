#!/usr/bin/env bash
# Installs or reconciles K3s on one node. Idempotent and self-repairing: the
# pinned version is installed only when another (or none) is present, and K3s
# restarts when its config or version changed since the last run that got it
# running, or when it is not running. A matching config file proves nothing:
# only a service verified active records the config as applied. Every step is
# bounded in time (the K3s unit has TimeoutStartSec=0) and fails with a message
# naming the step. Runs as root; inputs come as variables set above it.
#   K3S_VERSION     pinned release, e.g. v1.33.5+k3s1
#   K3S_ROLE        server | agent
#   K3S_CONFIG_B64  /etc/rancher/k3s/config.yaml, base64 (it holds the token)
#   K3S_SYSCTL_B64  /etc/sysctl.d/90-kubelet.conf, base64: the kernel parameters
#                   that protect-kernel-defaults requires, applied before K3s starts
#   K3S_PSA_B64, K3S_AUDIT_POLICY_B64  servers only, base64: the API server's
#                   Pod Security admission config and audit policy (K3s CIS guide)
#   SHUTDOWN_GRACE, SHUTDOWN_GRACE_CRITICAL  kubelet graceful node shutdown
#                   (total, and the part kept for critical pods), e.g. 60s 20s
#   REGISTRATION_ADDRESS  first server of an HA cluster only: the address
#                   the other nodes join through (the bastion's forwarder to
#                   every server). Its config bootstraps etcd (cluster-init);
#                   if it has no etcd data yet while a server answers there,
#                   the cluster exists and this is a replaced first server: it
#                   joins through that address instead of starting a second
#                   cluster.
#   CLUSTER_EXISTS  true on a first server whose stack's last update recorded
#                   other servers that stay (stack output k3sServers): with no
#                   etcd data, it must join them. The probe is retried for
#                   JOIN_WAIT seconds (one that fails once, a restarting
#                   forwarder, must not start a second cluster), then it
#                   refuses to bootstrap.
#   GEOPLATFORM_ROOT  filesystem prefix, empty on nodes (tests point it elsewhere)
#   APT_LOCK_TIMEOUT, APT_RETRY_INTERVAL, START_TIMEOUT, JOIN_WAIT  seconds;
#                   defaults below and in lib/apt-get.sh (tests shorten them)
set -euo pipefail

: "${K3S_VERSION:?}" "${K3S_ROLE:?}" "${K3S_CONFIG_B64:?}" "${K3S_SYSCTL_B64:?}" "${SHUTDOWN_GRACE:?}" "${SHUTDOWN_GRACE_CRITICAL:?}"
root=${GEOPLATFORM_ROOT:-}
config_dir="$root/etc/rancher/k3s"
config_file="$config_dir/config.yaml"
# K3s starts its kubelet with --config-dir on this directory; drop-ins there are merged over K3s's own defaults.
# Graceful node shutdown has no kubelet flag, only these KubeletConfiguration fields.
kubelet_dropin_dir="$root/var/lib/rancher/k3s/agent/etc/kubelet.conf.d"
kubelet_dropin="$kubelet_dropin_dir/50-geoplatform-shutdown.conf"
sysctl_file="$root/etc/sysctl.d/90-kubelet.conf"
server_dir="$root/var/lib/rancher/k3s/server"
state_dir="$root/var/lib/geoplatform"
applied_file="$state_dir/k3s-applied"
# A joining server syncs etcd before it reports ready; a first start pulls images.
start_timeout=${START_TIMEOUT:-600}
# Long enough for a server restarting or the bastion's haproxy reloading; short next to the install's own bounds.
join_wait=${JOIN_WAIT:-300}

case "$K3S_ROLE" in
    server)
        service=k3s
        : "${K3S_PSA_B64:?}" "${K3S_AUDIT_POLICY_B64:?}"
        ;;
    agent) service=k3s-agent ;;
    *)
        echo "K3S_ROLE must be server or agent, got '$K3S_ROLE'" >&2
        exit 2
        ;;
esac

fail() {
    echo "geoplatform: $*" >&2
    exit 1
}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# Package installs race with cloud-init's own on a fresh VM; status 2 means
# "done with recoverable errors", which is fine for us.
if command -v cloud-init >/dev/null 2>&1; then
    status=0
    timeout 900 cloud-init status --wait >/dev/null || status=$?
    case $status in
        0 | 2) ;;
        124) fail "cloud-init did not finish within 900s" ;;
        *) fail "cloud-init status --wait failed with status $status" ;;
    esac
fi

# apt_get: apt-get within one bound, retrying while apt's or dpkg's locks are held.
# geoplatform: include apt-get
# Longhorn needs iSCSI on every node, and NFS for RWX volumes.
if ! dpkg -s open-iscsi nfs-common >/dev/null 2>&1; then
    apt_get update -qq
    apt_get install -y -qq open-iscsi nfs-common
fi
timeout 60 systemctl enable --now iscsid >/dev/null || fail "could not start iscsid"

install -d -m 0700 "$config_dir" "$state_dir"
new_config="$scratch/new"
base64 -d <<<"$K3S_CONFIG_B64" >"$new_config"
registration=${REGISTRATION_ADDRESS:-}
# The supervisor serves the cluster CA without authentication: an answer means a running server behind the forwarder
# (this one is not running: the forwarder skips it).
answers() { curl -sfk --connect-timeout 5 --max-time 10 "https://$registration:6443/cacerts" -o /dev/null; }
if [[ -n $registration && ! -d "$root/var/lib/rancher/k3s/server/db/etcd" ]] && grep -qx 'cluster-init: true' "$new_config"; then
    found=false
    if answers; then
        found=true
    elif [[ ${CLUSTER_EXISTS:-false} == true ]]; then
        echo "geoplatform: no server answers at $registration yet, but the last update recorded other servers: retrying for up to ${join_wait}s" >&2
        deadline=$((SECONDS + join_wait))
        while ! $found && ((SECONDS < deadline)); do
            sleep 10
            if answers; then found=true; fi
        done
        # Bootstrapping here would start a second, empty cluster with a new CA beside the running one.
        $found || fail "the stack's last update recorded other K3s servers (stack output k3sServers), but none answered at $registration:6443 for ${join_wait}s: refusing to bootstrap a new, empty cluster beside them. Check that K3s runs on the other servers (systemctl status k3s) and that the bastion forwards 6443 to them (systemctl status haproxy on the bastion), then run pulumi up again. If every server is gone, restore an etcd snapshot (docs/restore.md, \"The whole cluster into new VMs\")"
    fi
    if $found; then
        sed -i '/^cluster-init: true$/d' "$new_config"
        echo "server: \"https://$registration:6443\"" >>"$new_config"
        echo "geoplatform: the cluster exists (a server answers at $registration): joining it instead of bootstrapping a new one"
    fi
fi
if ! cmp -s "$new_config" "$config_file"; then
    install -m 0600 "$new_config" "$config_file"
fi
install -d -m 0755 "$kubelet_dropin_dir"
printf '%s\n' "apiVersion: kubelet.config.k8s.io/v1beta1" "kind: KubeletConfiguration" \
    "shutdownGracePeriod: $SHUTDOWN_GRACE" "shutdownGracePeriodCriticalPods: $SHUTDOWN_GRACE_CRITICAL" >"$new_config"
if ! cmp -s "$new_config" "$kubelet_dropin"; then
    install -m 0644 "$new_config" "$kubelet_dropin"
fi

# CIS items (docs/k3s.md, "CIS hardening"). Writes base64 $1 to $2 with mode $3, replacing it only when it differs.
put_file() {
    base64 -d <<<"$1" >"$new_config"
    if ! cmp -s "$new_config" "$2"; then
        install -m "$3" "$new_config" "$2"
    fi
    chmod "$3" "$2"
}
# The kernel parameters protect-kernel-defaults requires: kept in sysctl.d for every boot (systemd-sysctl applies it
# before K3s starts) and applied now, on every run, so a value changed since is set back before this start. Mode 0644
# as every sysctl.d file: the values are public in /proc/sys anyway.
install -d -m 0755 "$(dirname "$sysctl_file")"
put_file "$K3S_SYSCTL_B64" "$sysctl_file" 0644
status=0
timeout 30 sysctl -q -p "$sysctl_file" >/dev/null || status=$?
((status == 0)) || fail "sysctl -p $sysctl_file failed (status $status); with protect-kernel-defaults the kubelet would not start"
while IFS='=' read -r key value; do
    [[ -z $key || $key == \#* ]] && continue
    actual=$(timeout 10 sysctl -n "$key") || fail "could not read the kernel parameter $key"
    [[ $actual == "$value" ]] || fail "the kernel parameter $key is '$actual' after sysctl -p, not '$value'; with protect-kernel-defaults the kubelet would not start"
done <"$sysctl_file"
applied_files=("$config_file" "$kubelet_dropin" "$sysctl_file")
if [[ $K3S_ROLE == server ]]; then
    # Root-only, as K3s keeps its server directory (created here on a first install, before K3s does); the audit log
    # records who did what in the cluster.
    [[ -d $server_dir ]] || install -d -m 0700 "$server_dir"
    install -d -m 0700 "$server_dir/logs"
    put_file "$K3S_PSA_B64" "$server_dir/psa.yaml" 0600
    put_file "$K3S_AUDIT_POLICY_B64" "$server_dir/audit.yaml" 0600
    applied_files+=("$server_dir/psa.yaml" "$server_dir/audit.yaml")
fi
# A change to any of these files restarts K3s below, as a config change does.
wanted="$K3S_VERSION $(cat "${applied_files[@]}" | sha256sum | cut -d' ' -f1)"

binary_version() { (timeout 10 k3s --version 2>/dev/null || true) | awk '/^k3s version/ {print $3}'; }

installed_version=$(binary_version)
reason=""
if [[ $installed_version != "$K3S_VERSION" ]]; then
    # The installer of the same tag as the binary, not the moving get.k3s.io.
    # It does not start K3s: the restart below does, bounded and verified.
    installer=$(mktemp)
    curl -sfL --connect-timeout 10 --max-time 60 --retry 5 --retry-delay 5 "https://raw.githubusercontent.com/k3s-io/k3s/${K3S_VERSION}/install.sh" -o "$installer" ||
        fail "could not download the K3s ${K3S_VERSION} installer"
    INSTALL_K3S_VERSION="$K3S_VERSION" INSTALL_K3S_EXEC="$K3S_ROLE" INSTALL_K3S_SKIP_START=true timeout 600 sh "$installer" ||
        fail "the K3s ${K3S_VERSION} installer failed or took longer than 600s"
    rm -f "$installer"
    [[ $(binary_version) == "$K3S_VERSION" ]] || fail "after installing, k3s --version is not ${K3S_VERSION}"
    reason="installed K3s $K3S_VERSION (was: ${installed_version:-none})"
elif [[ $(cat "$applied_file" 2>/dev/null) != "$wanted" ]]; then
    # Config changed, or a previous run wrote it but K3s never came up with it.
    reason="config not yet applied"
elif ! timeout 10 systemctl is-active --quiet "$service"; then
    reason="$service was not running"
fi

if [[ -z $reason ]]; then
    echo "geoplatform: K3s $K3S_VERSION up to date"
    exit 0
fi

rm -f "$applied_file"
status=0
timeout "$start_timeout" systemctl restart "$service" || status=$?
if ((status != 0)) || ! timeout 10 systemctl is-active --quiet "$service"; then
    echo "geoplatform: $service did not start ($reason); last log lines:" >&2
    timeout 10 journalctl -u "$service" -n 30 --no-pager >&2 || true
    if ((status == 124)); then fail "$service not active within ${start_timeout}s; the next run retries"; fi
    fail "systemctl restart $service failed (status $status); the next run retries"
fi
echo "$wanted" >"$applied_file"
echo "geoplatform: $reason, restarted $service"
