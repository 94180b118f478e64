#!/usr/bin/env bash
# Runs on the first server before any node installs a new K3s version:
# refuses a version that skips a minor release or goes back one, since
# Kubernetes upgrades the control plane one minor version at a time and
# does not support downgrades. Compares with every node's kubelet version;
# when the API does not answer (a half-failed earlier run), with this
# server's own binary, so a repair run is not blocked. A new cluster passes.
#   K3S_VERSION  the version about to be installed, e.g. v1.33.5+k3s1
set -euo pipefail

: "${K3S_VERSION:?}"

minor() { sed -n 's/^v1\.\([0-9]*\)\..*/\1/p' <<<"$1"; }
target=$(minor "$K3S_VERSION")
[[ -n $target ]] || {
    echo "geoplatform: cannot read a minor version from '$K3S_VERSION'" >&2
    exit 2
}

if ! command -v k3s >/dev/null 2>&1; then
    echo "geoplatform: no K3s on this server yet: a new cluster, any version"
    exit 0
fi
if ! running=$(timeout 30 k3s kubectl get nodes -o 'jsonpath={range .items[*]}{.status.nodeInfo.kubeletVersion}{" "}{end}' 2>/dev/null); then
    running=$( (timeout 10 k3s --version 2>/dev/null || true) | awk '/^k3s version/ {print $3}')
    echo "geoplatform: the API does not answer; comparing with this server's binary (${running:-none})"
fi

for version in $running; do
    current=$(minor "$version")
    [[ -n $current ]] || continue
    if ((target > current + 1)); then
        echo "geoplatform: refusing $K3S_VERSION: a node runs $version, and Kubernetes upgrades one minor version at a time; install a v1.$((current + 1)).x release first" >&2
        exit 1
    fi
    if ((target < current)); then
        echo "geoplatform: refusing $K3S_VERSION: a node runs $version, and K3s does not support downgrades" >&2
        exit 1
    fi
done
echo "geoplatform: $K3S_VERSION is at most one minor version ahead of every node (${running:-none})"
