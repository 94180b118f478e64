#!/usr/bin/env bash
# Runs on the first server around an agent's K3s restart for a new version or
# a new config, so agents restart one at a time (ingress nodes never together)
# and drained. Pulumi starts every agent's "before" at once; a lock (a
# ConfigMap that only one can create) lets one through, and its "after"
# releases it. A node that does not exist yet (a new agent), or that already
# runs the version with the config (the annotation geoplatform.io/k3s-config,
# written by "after"), needs nothing, so creating a cluster stays parallel.
# That the new config took effect is read from K3s itself: at every start it
# writes the hash of its (token-redacted) arguments, config file included, to
# the Node's k3s.io/node-config-hash (k3s-io/k3s pkg/nodeconfig/nodeconfig.go);
# "before" records the running hash, "after" waits for a different one.
# A step that fails while holding the lock marks it failed (a trap), so the
# agents waiting for it in this run fail at once instead of waiting out
# LOCK_TIMEOUT; a failed "before" also undoes its cordon. The holder's next
# run carries on with its lock, its since reset to then. A lock whose holder left
# the cluster (its Node NotFound: an API error is no answer), or held longer
# than HOLD_LIMIT (a run killed halfway), is taken over. A node back on
# its running version and config (a change reverted after a failed roll) has
# its cordon, its rolled-from mark and its lock released by "before".
#   PHASE        before: take the lock, cordon, drain | after: wait for the
#                node on the new version and config, uncordon, release the lock
#   NODE_NAME    the agent
#   K3S_VERSION  the version it runs after the restart
#   CONFIG_ID    a hash of its config without the token
#   LOCK_TIMEOUT, DRAIN_TIMEOUT, READY_TIMEOUT, HOLD_LIMIT  seconds; defaults below
set -euo pipefail

: "${PHASE:?}" "${NODE_NAME:?}" "${K3S_VERSION:?}" "${CONFIG_ID:?}"
lock=geoplatform-upgrade-lock
# Ours, so only a cordon of ours is undone (not an administrator's).
cordoned=geoplatform.io/cordoned-for-upgrade
applied=geoplatform.io/k3s-config
# The k3s.io/node-config-hash before the restart, while a config change rolls.
rolled_from=geoplatform.io/rolled-from-config-hash
lock_timeout=${LOCK_TIMEOUT:-3600}
drain_timeout=${DRAIN_TIMEOUT:-300}
ready_timeout=${READY_TIMEOUT:-900}
# Longer than any legitimate hold: a drain, the install (SSH dials, cloud-init, apt, the installer, the start) and "after".
hold_limit=${HOLD_LIMIT:-7200}
started=$(date +%s)
holding=false
cordoned_now=false

kubectl() { timeout 30 k3s kubectl "$@"; }
fail() {
    echo "geoplatform: $*" >&2
    exit 1
}
# A field of the Node, for a decision (drain or not, done or not): an API error fails the step rather than read as
# unset (a Node not there reads empty). Only in an assignment (x=$(node_field ...)) does set -e see that failure.
node_field() { kubectl get node "$NODE_NAME" -o "jsonpath=$1" --ignore-not-found || fail "cannot read $1 of node $NODE_NAME from the API server"; }
annotation() { node_field "{.metadata.annotations.${1//./\\.}}"; }
# The same while waiting for the restart, where an error means "not yet".
polled_field() { kubectl get node "$NODE_NAME" -o "jsonpath=$1" 2>/dev/null || true; }
lock_field() { kubectl get configmap "$lock" -n kube-system -o "jsonpath={.data.$1}" 2>/dev/null || true; }
holder() { lock_field holder; }
# Only NotFound (empty with --ignore-not-found) means the holder left; an API error leaves it the lock (we wait).
holder_left() {
    local found
    found=$(kubectl get node "$1" -o name --ignore-not-found 2>/dev/null) && [[ -z $found ]]
}
release_lock() {
    if [[ $(holder) == "$NODE_NAME" ]]; then
        kubectl delete configmap "$lock" -n kube-system --ignore-not-found >/dev/null
    fi
}
uncordon_ours() {
    local ours
    ours=$(annotation "$cordoned")
    if [[ $ours == true ]]; then
        kubectl uncordon "$NODE_NAME" >/dev/null
        kubectl annotate node "$NODE_NAME" "$cordoned-" >/dev/null
        echo "geoplatform: uncordoned $NODE_NAME"
    fi
}
# On a failure while holding the lock: the waiters see "failed" (with its time, so a mark from an earlier run is not
# taken for this one's) and stop; a "before" that cordoned the node puts it back in service, unchanged.
on_exit() {
    local status=$?
    ((status != 0)) && [[ $holding == true ]] || return 0
    if [[ $PHASE == before && $cordoned_now == true ]]; then uncordon_ours || true; fi
    kubectl patch configmap "$lock" -n kube-system --type merge -p "{\"data\":{\"failed\":\"$(date +%s) $PHASE\"}}" >/dev/null ||
        echo "geoplatform: could not mark the upgrade lock failed; the other agents wait for it up to ${lock_timeout}s" >&2
}
trap on_exit EXIT

case $PHASE in
    before)
        node=$(kubectl get node "$NODE_NAME" -o name --ignore-not-found) || fail "cannot read node $NODE_NAME from the API server: not deciding whether it is new"
        if [[ -z $node ]]; then
            echo "geoplatform: $NODE_NAME is new: nothing to drain"
            exit 0
        fi
        kubelet_version=$(node_field '{.status.nodeInfo.kubeletVersion}')
        applied_config=$(annotation "$applied")
        same_version=false
        [[ $kubelet_version == "$K3S_VERSION" ]] && same_version=true
        same_config=false
        [[ $applied_config == "$CONFIG_ID" ]] && same_config=true
        if [[ $same_version == true && $same_config == true ]]; then
            # A roll that failed halfway and was then reverted leaves the node cordoned, marked and holding the lock.
            mark=$(annotation "$rolled_from")
            if [[ -n $mark ]]; then kubectl annotate node "$NODE_NAME" "$rolled_from-" >/dev/null; fi
            uncordon_ours
            release_lock
            echo "geoplatform: $NODE_NAME already runs $K3S_VERSION with this config"
            exit 0
        fi
        deadline=$((SECONDS + lock_timeout))
        until kubectl create configmap "$lock" -n kube-system --from-literal=holder="$NODE_NAME" --from-literal=since="$(date +%s)" >/dev/null 2>&1; do
            current=$(holder)
            # Ours from an earlier run that failed halfway: carry on, from now (an old since would let another agent take
            # the lock over after hold_limit, in the middle of this roll).
            if [[ $current == "$NODE_NAME" ]]; then
                kubectl patch configmap "$lock" -n kube-system --type merge -p "{\"data\":{\"failed\":\"\",\"since\":\"$(date +%s)\"}}" >/dev/null
                break
            fi
            since=$(lock_field since)
            failed=$(lock_field failed)
            if [[ -n $current ]] && holder_left "$current"; then
                echo "geoplatform: the upgrade lock's holder $current left the cluster: taking it over"
                kubectl delete configmap "$lock" -n kube-system --ignore-not-found >/dev/null
                continue
            fi
            if [[ -n $since ]] && (($(date +%s) - since > hold_limit)); then
                echo "geoplatform: the upgrade lock is held by $current for more than ${hold_limit}s (a run stopped halfway): taking it over"
                kubectl delete configmap "$lock" -n kube-system --ignore-not-found >/dev/null
                continue
            fi
            if [[ -n $failed ]] && ((${failed%% *} >= started)); then
                fail "the roll of $current failed (its '${failed#* }' step, ConfigMap kube-system/$lock): $NODE_NAME is not rolled in this run. Fix $current and re-run"
            fi
            ((SECONDS < deadline)) || fail "waited ${lock_timeout}s for the upgrade of ${current:-another node} to finish (ConfigMap kube-system/$lock)"
            sleep 5
        done
        holding=true
        mark=$(annotation "$rolled_from")
        if [[ $same_config == false && -z $mark ]]; then
            running_hash=$(annotation k3s.io/node-config-hash)
            kubectl annotate --overwrite node "$NODE_NAME" "$rolled_from=$running_hash" >/dev/null
        fi
        ready=$(node_field '{.status.conditions[?(@.type=="Ready")].status}')
        if [[ $ready != True ]]; then
            echo "geoplatform: $NODE_NAME is not Ready: restarting it without a drain"
            exit 0
        fi
        unschedulable=$(node_field '{.spec.unschedulable}')
        if [[ $unschedulable != true ]]; then
            kubectl annotate --overwrite node "$NODE_NAME" "$cordoned=true" >/dev/null
            cordoned_now=true
        fi
        # --force: a pod with no controller (a JupyterHub user server) blocks a drain at once otherwise; it is deleted, its
        # user re-spawns at the next login (an open kernel is lost) and the node does not stay cordoned holding the lock.
        timeout $((drain_timeout + 30)) k3s kubectl drain "$NODE_NAME" --ignore-daemonsets --delete-emptydir-data --timeout="${drain_timeout}s" --force ||
            fail "drain of $NODE_NAME did not finish within ${drain_timeout}s (a PodDisruptionBudget?); it is back in service unchanged, the upgrade lock marked failed. Fix and re-run."
        echo "geoplatform: drained $NODE_NAME for $K3S_VERSION (new version: $([[ $same_version == true ]] && echo no || echo yes), new config: $([[ $same_config == true ]] && echo no || echo yes))"
        ;;
    after)
        [[ $(holder) == "$NODE_NAME" ]] && holding=true
        deadline=$((SECONDS + ready_timeout))
        from=$(annotation "$rolled_from")
        # A hash read, and different: an unanswered read is no restart.
        restarted() {
            local hash
            hash=$(polled_field '{.metadata.annotations.k3s\.io/node-config-hash}')
            [[ -z $from || (-n $hash && $hash != "$from") ]]
        }
        until [[ $(polled_field '{.status.conditions[?(@.type=="Ready")].status}') == True && $(polled_field '{.status.nodeInfo.kubeletVersion}') == "$K3S_VERSION" ]] && restarted; do
            ((SECONDS < deadline)) || fail "$NODE_NAME is not Ready on $K3S_VERSION with its new config (k3s.io/node-config-hash still ${from:-unset}) after ${ready_timeout}s; it stays cordoned, the upgrade lock held and marked failed"
            sleep 5
        done
        kubectl annotate --overwrite node "$NODE_NAME" "$applied=$CONFIG_ID" "$rolled_from-" >/dev/null
        uncordon_ours
        release_lock
        holding=false
        echo "geoplatform: $NODE_NAME runs $K3S_VERSION"
        ;;
    *) fail "PHASE must be before or after, got '$PHASE'" ;;
esac
