#!/usr/bin/env bash
# Sets up and runs geoplatform for one stack on a self-managed backend (no
# Pulumi Cloud account): installs dependencies, compiles the program, logs in
# to a local file backend (or $PULUMI_BACKEND_URL, e.g. an S3-compatible
# bucket), selects the stack (creating it with passphrase-encrypted secrets),
# then runs the Pulumi action. Extra arguments go to pulumi.
set -euo pipefail

usage() {
    echo "usage: $0 <dev|prod> [preview|up|refresh|destroy] [pulumi args...]" >&2
    exit 2
}

stack=${1:-}
action=${2:-preview}
case "$stack" in dev | prod) ;; *) usage ;; esac
case "$action" in preview | up | refresh | destroy) ;; *) usage ;; esac
shift $(($# < 2 ? $# : 2))

cd "$(dirname "$0")/.."

if [[ -z ${PULUMI_CONFIG_PASSPHRASE:-} && -z ${PULUMI_CONFIG_PASSPHRASE_FILE:-} ]]; then
    echo "Set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE): it encrypts the stack's secrets in the state." >&2
    exit 1
fi

backend=${PULUMI_BACKEND_URL:-file://$PWD/.pulumi-state}
if [[ $backend == file://* ]]; then
    mkdir -p "${backend#file://}"
fi

npm ci --no-audit --no-fund
# The Releases install the checked archives in .charts/ (GEOPLATFORM_CHART_MIRROR or helm pull).
npm run charts
npm run build

# The `pulumi` devDependency is the CLI launcher; it fetches the CLI on first use.
pulumi() { npx --no-install pulumi "$@"; }

pulumi login "$backend"
pulumi stack select "$stack" --create --secrets-provider passphrase
pulumi "$action" --stack "$stack" "$@"
