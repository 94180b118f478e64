#!/usr/bin/env bash
# Runs on a server before a node's install, when its VM is new: removes the
# Node that a VM of the same name left behind (a replaced VM), so that the
# new one can register (K3s refuses a name whose node-password Secret exists,
# k3s-io/k3s#3973, #4865; deleting the Node deletes that Secret, and for a
# server its etcd member). A Node that is this VM (Ready at the VM's address)
# is kept: this also runs once for every existing node when it is introduced.
#   NODE_NAME      the node name
#   NODE_IP        the new VM's private address
#   DRAIN_TIMEOUT  seconds, for an old VM that still runs; default below
set -euo pipefail

: "${NODE_NAME:?}" "${NODE_IP:?}"
drain_timeout=${DRAIN_TIMEOUT:-300}

kubectl() { timeout 30 k3s kubectl "$@"; }
field() { kubectl get node "$NODE_NAME" -o "jsonpath=$1" 2>/dev/null || true; }

if ! command -v k3s >/dev/null 2>&1 || ! kubectl get node "$NODE_NAME" >/dev/null 2>&1; then
    echo "geoplatform: no Node $NODE_NAME yet"
    exit 0
fi
address=$(field '{.status.addresses[?(@.type=="InternalIP")].address}')
ready=$(field '{.status.conditions[?(@.type=="Ready")].status}')
if [[ $address == "$NODE_IP" && $ready == True ]]; then
    echo "geoplatform: Node $NODE_NAME is this VM ($NODE_IP): kept"
    exit 0
fi
if [[ $ready == True ]]; then
    timeout $((drain_timeout + 30)) k3s kubectl drain "$NODE_NAME" --ignore-daemonsets --delete-emptydir-data --timeout="${drain_timeout}s" || {
        echo "geoplatform: drain of the old $NODE_NAME ($address) did not finish within ${drain_timeout}s (a PodDisruptionBudget?). Fix and re-run." >&2
        exit 1
    }
fi
kubectl delete node "$NODE_NAME" --ignore-not-found --wait=false >/dev/null
echo "geoplatform: removed the Node of the replaced VM $NODE_NAME (${address:-no address}, Ready: ${ready:-unknown})"
