#!/usr/bin/env bash
# Runs on a server: makes one node's taints, and the removal of its labels,
# follow the config both ways without touching what other managers set. The
# node's labels themselves are applied by a NodePatch (server-side apply,
# per-key ownership); K3s re-merges `node-label` on every start and so
# co-owns them, so a label removed from config must be removed here. Taints
# are one atomic list in the API: a server-side apply of ours would replace
# the whole list, so each of ours is added or removed on its own (kubectl
# taint reads, changes and writes back the list it read). What geoplatform
# owns is recorded in two annotations, so that what it no longer wants is
# removed and nothing else is.
#   NODE_NAME  the node
#   LABELS     space-separated label keys geoplatform sets on it
#   TAINTS     space-separated taints, key=value:Effect (key:Effect when empty)
set -euo pipefail

: "${NODE_NAME:?}"
labels=${LABELS:-}
taints=${TAINTS:-}
labels_annotation=geoplatform.io/owned-labels
taints_annotation=geoplatform.io/owned-taints

kubectl() { timeout 30 k3s kubectl "$@"; }
annotation() { kubectl get node "$NODE_NAME" -o "jsonpath={.metadata.annotations.${1//./\\.}}"; }
# "key:Effect" of a taint as written in TAINTS.
taint_id() { echo "${1%%[=:]*}:${1##*:}"; }
contains() {
    local item
    for item in $2; do [[ $item == "$1" ]] && return 0; done
    return 1
}

kubectl get node "$NODE_NAME" >/dev/null || {
    echo "geoplatform: node $NODE_NAME not found" >&2
    exit 1
}

for key in $(annotation "$labels_annotation" | tr ',' ' '); do
    if ! contains "$key" "$labels"; then
        kubectl label node "$NODE_NAME" "$key-" >/dev/null
        echo "geoplatform: removed label $key from $NODE_NAME"
    fi
done

wanted_ids=""
for taint in $taints; do wanted_ids+=" $(taint_id "$taint")"; done
present=$(kubectl get node "$NODE_NAME" -o 'jsonpath={range .spec.taints[*]}{.key}:{.effect}{" "}{end}')
for id in $(annotation "$taints_annotation" | tr ',' ' '); do
    if ! contains "$id" "$wanted_ids" && contains "$id" "$present"; then
        kubectl taint node "$NODE_NAME" "$id-" >/dev/null
        echo "geoplatform: removed taint $id from $NODE_NAME"
    fi
done
for taint in $taints; do
    kubectl taint --overwrite node "$NODE_NAME" "$taint" >/dev/null
done

owned_labels=$(tr ' ' '\n' <<<"$labels" | sed '/^$/d' | paste -sd, -)
owned_taints=$(tr ' ' '\n' <<<"$wanted_ids" | sed '/^$/d' | paste -sd, -)
kubectl annotate --overwrite node "$NODE_NAME" "$labels_annotation=$owned_labels" "$taints_annotation=$owned_taints" >/dev/null
echo "geoplatform: $NODE_NAME owns labels [${owned_labels}] taints [${owned_taints}]"
