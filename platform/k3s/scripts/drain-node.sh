#!/usr/bin/env bash
# Runs on a server when a node leaves the stack or before its VM is deleted
# for a replacement: evicts its pods, then removes the Node object, so that a
# new VM of the same name can register (K3s refuses a name whose node-password
# Secret exists, k3s-io/k3s#3973). Bounded: a node whose kubelet is dead (a
# vanished spot instance, a dead VM) cannot evict anything, so it is removed
# without a drain, and the pod garbage collector deletes its pods. Dead means
# not Ready, or Ready with a Lease its kubelet no longer renews: the node
# lifecycle controller marks a node Unknown only once its Lease is older than
# node-monitor-grace-period (50 s by default since Kubernetes 1.32,
# kubernetes/kubernetes#126287; K3s sets no other), and a drain in that window
# would wait its whole timeout for pods that never terminate. A node that is
# already gone is not an error (it ends at once); an API that does not answer is.
# With KEEP_NODE=true it only drains: before a VM is deleted (it is replaced),
# so no pod and no Longhorn replica runs on it; the new VM's forget-node.sh
# removes the Node. An agent leaving the stack runs it after its drain
# without KEEP_NODE, which removed the Node: nothing is left to do.
#   NODE_NAME      the node name
#   DRAIN_TIMEOUT  seconds for the drain of a live node; default below
#   LEASE_WATCH    seconds to watch the Lease for a renewal; default below
#   KEEP_NODE      true: drain, keep the Node
#   INSTANCE_ID    optional: the VM being released; a Node registered by
#                  another VM (label geoplatform.io/instance-id, as
#                  forget-node.sh reads it) is left alone. A VM recreated after
#                  a refresh is a create, not a replacement, so the old release
#                  is deleted at the end of the run, when the name is the new
#                  VM's live Node.
set -euo pipefail

: "${NODE_NAME:?}"
drain_timeout=${DRAIN_TIMEOUT:-300}
# The kubelet renews its Lease every 10 s (a quarter of its 40 s duration, k8s.io/kubernetes pkg/kubelet/kubelet.go).
lease_watch=${LEASE_WATCH:-30}
keep_node=${KEEP_NODE:-false}

kubectl() { timeout 30 k3s kubectl "$@"; }
fail() {
    echo "geoplatform: $*" >&2
    exit 1
}
# Only NotFound (empty with --ignore-not-found) means gone: any other error fails the step.
read_api() {
    kubectl get "$@" --ignore-not-found || fail "cannot read $1 $2 from the API server: not deciding whether node $NODE_NAME is gone"
}
renew_time() { read_api lease "$NODE_NAME" -n kube-node-lease -o 'jsonpath={.spec.renewTime}'; }
# True when the kubelet renews its Lease within lease_watch seconds; a missing Lease is a dead kubelet.
kubelet_alive() {
    local first now deadline=$((SECONDS + lease_watch))
    first=$(renew_time) || exit 1
    [[ -n $first ]] || return 1
    while ((SECONDS < deadline)); do
        sleep 2
        now=$(renew_time) || exit 1
        [[ -n $now ]] || return 1
        [[ $now == "$first" ]] || return 0
    done
    return 1
}

node=$(read_api node "$NODE_NAME" -o name)
if [[ -z $node ]]; then
    echo "geoplatform: node $NODE_NAME already gone"
    exit 0
fi
if [[ -n ${INSTANCE_ID:-} ]]; then
    registered=$(read_api node "$NODE_NAME" -o 'jsonpath={.metadata.labels.geoplatform\.io/instance-id}')
    if [[ -n $registered && $registered != "$INSTANCE_ID" ]]; then
        echo "geoplatform: node $NODE_NAME is VM $registered, not the released $INSTANCE_ID: nothing to release"
        exit 0
    fi
fi
ready=$(read_api node "$NODE_NAME" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')
if [[ $ready != True ]]; then
    echo "geoplatform: node $NODE_NAME is not Ready (${ready:-no status}): no drain"
elif ! kubelet_alive; then
    echo "geoplatform: node $NODE_NAME still reads Ready but its kubelet renewed no lease for ${lease_watch}s: it is dead, no drain"
else
    # A PodDisruptionBudget (Longhorn's last replica, a single database
    # instance) may block the drain: fail rather than lose data.
    # --force: a pod with no controller (a JupyterHub user server) would stop the drain at once; it is deleted
    # (its user re-spawns at the next login, an open kernel is lost).
    # A failed drain leaves the node as it was (kubectl drain cordons first): the VM stays, and a change reverted
    # after the failure must not leave it cordoned for good. An administrator's cordon is kept.
    cordoned=$(read_api node "$NODE_NAME" -o 'jsonpath={.spec.unschedulable}')
    if ! timeout $((drain_timeout + 30)) k3s kubectl drain "$NODE_NAME" --ignore-daemonsets --delete-emptydir-data --timeout="${drain_timeout}s" --force; then
        [[ $cordoned == true ]] || kubectl uncordon "$NODE_NAME" >/dev/null || true
        fail "drain of $NODE_NAME did not finish within ${drain_timeout}s (a PodDisruptionBudget?); the node is kept, back in service. Fix and re-run."
    fi
fi
if [[ $keep_node == true ]]; then
    echo "geoplatform: drained node $NODE_NAME, kept"
    exit 0
fi
kubectl delete node "$NODE_NAME" --ignore-not-found --wait=false >/dev/null
echo "geoplatform: removed node $NODE_NAME"
