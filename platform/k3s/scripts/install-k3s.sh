#!/usr/bin/env bash
# Installs or reconciles K3s on one node. Idempotent: the pinned version is
# installed only when another (or none) is present, and K3s restarts only when
# its config changed. Runs as root; inputs come as variables set above it.
#   K3S_VERSION     pinned release, e.g. v1.33.5+k3s1
#   K3S_ROLE        server | agent
#   K3S_CONFIG_B64  /etc/rancher/k3s/config.yaml, base64 (it holds the token)
#   GEOPLATFORM_ROOT  filesystem prefix, empty on nodes (tests point it elsewhere)
set -euo pipefail

: "${K3S_VERSION:?}" "${K3S_ROLE:?}" "${K3S_CONFIG_B64:?}"
root=${GEOPLATFORM_ROOT:-}
config_dir="$root/etc/rancher/k3s"
config_file="$config_dir/config.yaml"

case "$K3S_ROLE" in
    server) service=k3s ;;
    agent) service=k3s-agent ;;
    *)
        echo "K3S_ROLE must be server or agent, got '$K3S_ROLE'" >&2
        exit 2
        ;;
esac

# Package installs race with cloud-init's own on a fresh VM; status 2 means
# "done with recoverable errors", which is fine for us.
if command -v cloud-init >/dev/null 2>&1; then
    cloud-init status --wait >/dev/null || [[ $? -eq 2 ]]
fi

# Longhorn needs iSCSI on every node, and NFS for RWX volumes.
if ! dpkg -s open-iscsi nfs-common >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq open-iscsi nfs-common
fi
systemctl enable --now iscsid >/dev/null

install -d -m 0700 "$config_dir"
new_config=$(mktemp)
trap 'rm -f "$new_config"' EXIT
base64 -d <<<"$K3S_CONFIG_B64" >"$new_config"
config_changed=false
if ! cmp -s "$new_config" "$config_file"; then
    install -m 0600 "$new_config" "$config_file"
    config_changed=true
fi

installed_version=$( (k3s --version 2>/dev/null || true) | awk '/^k3s version/ {print $3}')
if [[ $installed_version != "$K3S_VERSION" ]]; then
    # The installer of the same tag as the binary, not the moving get.k3s.io.
    installer=$(mktemp)
    curl -sfL --retry 5 "https://raw.githubusercontent.com/k3s-io/k3s/${K3S_VERSION}/install.sh" -o "$installer"
    INSTALL_K3S_VERSION="$K3S_VERSION" INSTALL_K3S_EXEC="$K3S_ROLE" sh "$installer"
    rm -f "$installer"
    echo "geoplatform: installed K3s $K3S_VERSION (was: ${installed_version:-none})"
elif [[ $config_changed == true ]]; then
    systemctl restart "$service"
    echo "geoplatform: config changed, restarted $service"
else
    echo "geoplatform: K3s $K3S_VERSION up to date"
fi
