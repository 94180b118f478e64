#!/usr/bin/env bash
# Waits, on a server, until every named node has registered, is Ready and
# runs the pinned K3s (kubelet) version, so the kubeconfig is only handed on
# for a working cluster and an upgrade is not taken as done on the old
# kubelet. Fails naming the first node that did not make it in time.
#   NODE_NAMES       space-separated node names
#   K3S_VERSION      the version every node must report, e.g. v1.33.5+k3s1
#   TIMEOUT_SECONDS  overall deadline
set -euo pipefail

: "${NODE_NAMES:?}" "${K3S_VERSION:?}" "${TIMEOUT_SECONDS:?}"
deadline=$((SECONDS + TIMEOUT_SECONDS))

kubectl() { timeout 30 k3s kubectl "$@"; }

for node in $NODE_NAMES; do
    until kubectl get node "$node" >/dev/null 2>&1; do
        if ((SECONDS >= deadline)); then
            echo "node $node did not register within ${TIMEOUT_SECONDS}s" >&2
            exit 1
        fi
        sleep 5
    done
    remaining=$((deadline - SECONDS))
    if ((remaining < 1)) || ! timeout $((remaining + 5)) k3s kubectl wait --for=condition=Ready "node/$node" --timeout="${remaining}s" >/dev/null; then
        echo "node $node is not Ready after ${TIMEOUT_SECONDS}s" >&2
        exit 1
    fi
    # K3s reports its own version (with the +k3sN suffix) as the kubelet version.
    while version=$(kubectl get node "$node" -o 'jsonpath={.status.nodeInfo.kubeletVersion}' 2>/dev/null || true); [[ $version != "$K3S_VERSION" ]]; do
        if ((SECONDS >= deadline)); then
            echo "node $node runs ${version:-an unknown version}, not $K3S_VERSION, after ${TIMEOUT_SECONDS}s" >&2
            exit 1
        fi
        sleep 5
    done
    echo "geoplatform: node $node Ready on $K3S_VERSION"
done
