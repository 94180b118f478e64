#!/usr/bin/env bash
# Runs on a server when a node leaves the stack (or its VM is replaced):
# evicts its pods, then removes the Node object, so that a new VM of the same
# name can register (K3s refuses a name whose node-password Secret exists,
# k3s-io/k3s#3973). Bounded: a node that is not Ready (a vanished spot
# instance, a dead VM) cannot evict anything, so it is removed without a
# drain, and the pod garbage collector deletes its pods. A node that is
# already gone is not an error.
# With KEEP_NODE=true it only drains: before an OpenStack storage VM's data
# volume is detached (the VM is replaced), so no Longhorn replica writes to it.
#   NODE_NAME      the node name
#   DRAIN_TIMEOUT  seconds for the drain of a Ready node; default below
#   KEEP_NODE      true: drain, keep the Node (its replacement's forget-node.sh removes it)
set -euo pipefail

: "${NODE_NAME:?}"
drain_timeout=${DRAIN_TIMEOUT:-300}
keep_node=${KEEP_NODE:-false}

kubectl() { timeout 30 k3s kubectl "$@"; }

if ! kubectl get node "$NODE_NAME" >/dev/null 2>&1; then
    echo "geoplatform: node $NODE_NAME already gone"
    exit 0
fi
ready=$(kubectl get node "$NODE_NAME" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null || true)
if [[ $ready == True ]]; then
    # A PodDisruptionBudget (Longhorn's last replica, a single database
    # instance) may block the drain: fail rather than lose data.
    # --force: a pod with no controller (a JupyterHub user server) would stop the drain at once; it is deleted
    # (its user re-spawns at the next login, an open kernel is lost).
    timeout $((drain_timeout + 30)) k3s kubectl drain "$NODE_NAME" --ignore-daemonsets --delete-emptydir-data --timeout="${drain_timeout}s" --force ||
        {
            echo "geoplatform: drain of $NODE_NAME did not finish within ${drain_timeout}s (a PodDisruptionBudget?); the node stays, cordoned. Fix and re-run." >&2
            exit 1
        }
else
    echo "geoplatform: node $NODE_NAME is not Ready (${ready:-no status}): no drain"
fi
if [[ $keep_node == true ]]; then
    echo "geoplatform: drained node $NODE_NAME, kept"
    exit 0
fi
kubectl delete node "$NODE_NAME" --ignore-not-found --wait=false >/dev/null
echo "geoplatform: removed node $NODE_NAME"
