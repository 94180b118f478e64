#!/usr/bin/env bash
# Waits, on a server, until every named node has registered and is Ready, so
# the kubeconfig is only handed on for a working cluster. Fails naming the
# first node that did not make it in time.
#   NODE_NAMES       space-separated node names
#   TIMEOUT_SECONDS  overall deadline
set -euo pipefail

: "${NODE_NAMES:?}" "${TIMEOUT_SECONDS:?}"
deadline=$((SECONDS + TIMEOUT_SECONDS))

for node in $NODE_NAMES; do
    until k3s kubectl get node "$node" >/dev/null 2>&1; do
        if ((SECONDS >= deadline)); then
            echo "node $node did not register within ${TIMEOUT_SECONDS}s" >&2
            exit 1
        fi
        sleep 5
    done
    remaining=$((deadline - SECONDS))
    if ((remaining < 1)) || ! k3s kubectl wait --for=condition=Ready "node/$node" --timeout="${remaining}s" >/dev/null; then
        echo "node $node is not Ready after ${TIMEOUT_SECONDS}s" >&2
        exit 1
    fi
    echo "geoplatform: node $node Ready"
done
