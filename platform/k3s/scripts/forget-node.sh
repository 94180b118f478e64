#!/usr/bin/env bash
# Runs on a server before a node's install, when its VM is new: removes the
# Node that a VM of the same name left behind (a replaced VM), so that the
# new one can register (K3s refuses a name whose node-password Secret exists,
# k3s-io/k3s#3973, #4865; deleting the Node deletes that Secret, and for a
# server its etcd member). Decides by identity: K3s registers every VM with
# the label geoplatform.io/instance-id (its cloud id, from node-label), so a
# Node carrying this VM's id is this VM's and is kept; any other id is a
# predecessor's. The address cannot tell: an OpenStack replacement keeps it.
# A Node without the label registered before the label existed: it is this
# VM's when Ready at this address (that is only the first run with the label).
# Whether the predecessor still runs (its VM is deleted before this one is
# created, after a drain; a VM can still vanish undrained) is read from its
# kubelet's Lease, which a live kubelet renews every 10 s: a Node that still
# reads Ready after its VM is gone (the controller marks it NotReady only
# after its grace period) is removed without a drain, which a dead kubelet
# could never finish. Only a missing Lease or one not renewed counts as gone:
# an API error fails the step. The deleted Node is waited for until it is
# gone: K3s's finalizer on a server's Node removes its etcd member first, and a
# replacement of the same name would be refused while that member exists.
# Every step is bounded.
#   NODE_NAME      the node name
#   INSTANCE_ID    the new VM's cloud id
#   NODE_IP        the new VM's private address (for a Node without the label)
#   LEASE_WATCH    seconds to watch the Lease for a renewal; default below
#   DRAIN_TIMEOUT  seconds, for an old VM that still runs; default below
#   GONE_TIMEOUT   seconds for the deleted Node to be gone; default below
set -euo pipefail

: "${NODE_NAME:?}" "${INSTANCE_ID:?}" "${NODE_IP:?}"
lease_watch=${LEASE_WATCH:-30}
drain_timeout=${DRAIN_TIMEOUT:-300}
gone_timeout=${GONE_TIMEOUT:-120}

kubectl() { timeout 30 k3s kubectl "$@"; }
fail() {
    echo "geoplatform: $*" >&2
    exit 1
}
# Only NotFound (empty with --ignore-not-found) means absent: any other error fails the step.
read_api() {
    kubectl get "$@" --ignore-not-found || fail "cannot read $1 $2 from the API server: not deciding whether the old $NODE_NAME is gone"
}
field() { read_api node "$NODE_NAME" -o "jsonpath=$1"; }
renewed() { read_api lease "$NODE_NAME" -n kube-node-lease -o 'jsonpath={.spec.renewTime}'; }

if ! command -v k3s >/dev/null 2>&1; then
    echo "geoplatform: no Node $NODE_NAME yet"
    exit 0
fi
node=$(read_api node "$NODE_NAME" -o name)
if [[ -z $node ]]; then
    echo "geoplatform: no Node $NODE_NAME yet"
    exit 0
fi
registered=$(field '{.metadata.labels.geoplatform\.io/instance-id}')
address=$(field '{.status.addresses[?(@.type=="InternalIP")].address}')
ready=$(field '{.status.conditions[?(@.type=="Ready")].status}')
if [[ $registered == "$INSTANCE_ID" ]]; then
    echo "geoplatform: Node $NODE_NAME is this VM ($INSTANCE_ID): kept"
    exit 0
fi
if [[ -z $registered && $address == "$NODE_IP" && $ready == True ]]; then
    echo "geoplatform: Node $NODE_NAME has no instance id yet and is Ready at this VM's address ($NODE_IP): kept"
    exit 0
fi

alive=false
first=""
if [[ $ready == True ]]; then
    first=$(renewed)
    deadline=$((SECONDS + lease_watch))
    while [[ -n $first ]] && ((SECONDS < deadline)); do
        sleep 2
        now=$(renewed)
        if [[ -n $now && $now != "$first" ]]; then
            alive=true
            break
        fi
    done
fi
if [[ $alive == true ]]; then
    # The old VM still runs: its pods move away under their PodDisruptionBudgets.
    # --force: a pod with no controller (a JupyterHub user server) would stop the drain at once; it is deleted
    # (its user re-spawns at the next login, an open kernel is lost).
    timeout $((drain_timeout + 30)) k3s kubectl drain "$NODE_NAME" --ignore-daemonsets --delete-emptydir-data --timeout="${drain_timeout}s" --force || {
        echo "geoplatform: drain of the old $NODE_NAME (${registered:-no instance id}, $address) did not finish within ${drain_timeout}s (a PodDisruptionBudget?). Fix and re-run." >&2
        exit 1
    }
elif [[ $ready == True && -z $first ]]; then
    echo "geoplatform: the old $NODE_NAME still reads Ready but has no Lease: its kubelet is gone, no drain"
elif [[ $ready == True ]]; then
    echo "geoplatform: the old $NODE_NAME still reads Ready but its kubelet renewed no lease for ${lease_watch}s: its VM is gone, no drain"
fi
kubectl delete node "$NODE_NAME" --ignore-not-found --wait=false >/dev/null
# A server's Node carries K3s's finalizer wrangler.cattle.io/managed-etcd-controller, whose handler removes the etcd
# member of that name before the Node goes; a server joining under the name before then is refused by K3s ("duplicate
# node name found"), and an agent's node-password Secret goes with the Node too.
deadline=$((SECONDS + gone_timeout))
while [[ -n $(read_api node "$NODE_NAME" -o name) ]]; do
    if ((SECONDS >= deadline)); then
        fail "the Node of the replaced VM $NODE_NAME is still there ${gone_timeout}s after its deletion, held by its finalizers ($(field '{.metadata.finalizers}')): the new VM cannot register under that name until it is gone. For a server, K3s removes its etcd member first: see the K3s log on the other servers (journalctl -u k3s), then run pulumi up again"
    fi
    sleep 2
done
echo "geoplatform: removed the Node of the replaced VM $NODE_NAME (${registered:-no instance id}, ${address:-no address}, Ready: ${ready:-unknown}, this VM: $INSTANCE_ID)"
