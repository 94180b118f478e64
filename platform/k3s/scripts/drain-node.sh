#!/usr/bin/env bash
# Runs on a server when an agent leaves the stack: evicts its pods, then
# removes the Node object. A node that is already gone is not an error.
#   NODE_NAME  the agent's node name
set -euo pipefail

: "${NODE_NAME:?}"

if ! k3s kubectl get node "$NODE_NAME" >/dev/null 2>&1; then
    echo "geoplatform: node $NODE_NAME already gone"
    exit 0
fi
k3s kubectl drain "$NODE_NAME" --ignore-daemonsets --delete-emptydir-data --timeout=300s
k3s kubectl delete node "$NODE_NAME" --ignore-not-found
echo "geoplatform: drained and removed $NODE_NAME"
