#!/usr/bin/env bash
# Prints the admin kubeconfig K3s wrote on this server (mode 0600, root only).
#   GEOPLATFORM_ROOT  filesystem prefix, empty on nodes
set -euo pipefail

cat "${GEOPLATFORM_ROOT:-}/etc/rancher/k3s/k3s.yaml"
