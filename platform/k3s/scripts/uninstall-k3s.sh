#!/usr/bin/env bash
# Runs on an agent when it leaves the stack, after it was drained: removes K3s
# with the uninstaller that the K3s installer left. Nothing to do if absent.
#   GEOPLATFORM_ROOT  filesystem prefix, empty on nodes
set -euo pipefail

uninstaller="${GEOPLATFORM_ROOT:-}/usr/local/bin/k3s-agent-uninstall.sh"
if [[ -x $uninstaller ]]; then
    "$uninstaller"
    echo "geoplatform: K3s removed"
else
    echo "geoplatform: K3s not installed"
fi
