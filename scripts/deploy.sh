#!/usr/bin/env bash
# Sets up and runs geoplatform for one stack on a self-managed backend (no
# Pulumi Cloud account): installs the program and the policy pack, fetches
# the pinned charts, compiles the program, selects the stack (creating it with
# passphrase-encrypted secrets), then runs the Pulumi action with the policy
# pack, as the pull-request previews do. Extra arguments go to pulumi.
#
#   PULUMI_CONFIG_PASSPHRASE(_FILE)  required: encrypts the stack's secrets
#   PULUMI_BACKEND_URL               state backend; default: .pulumi-state/ here
#   pulumi                           the CLI on PATH when there is one, else the
#                                    npm launcher at the version in .pulumi.version
set -euo pipefail

usage() {
    echo "usage: $0 <stack> [preview|up|refresh|destroy] [pulumi args...]   (stack: a Pulumi.<stack>.yaml here)" >&2
    exit 2
}

cd "$(dirname "$0")/.."

stack=${1:-}
action=${2:-preview}
[[ -n $stack ]] || usage
case "$action" in preview | up | refresh | destroy) ;; *) usage ;; esac
shift $(($# < 2 ? $# : 2))
if [[ ! -f Pulumi.$stack.yaml ]]; then
    echo "No Pulumi.$stack.yaml in $PWD; stacks here: $(find . -maxdepth 1 -name 'Pulumi.*.yaml' | sed 's|^./Pulumi\.||; s|\.yaml$||' | sort | tr '\n' ' ')" >&2
    exit 2
fi

if [[ -z ${PULUMI_CONFIG_PASSPHRASE:-} && -z ${PULUMI_CONFIG_PASSPHRASE_FILE:-} ]]; then
    echo "Set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE): it encrypts the stack's secrets in the state." >&2
    exit 1
fi

# PULUMI_BACKEND_URL selects the backend for every pulumi command, without
# `pulumi login` changing the user's global default.
export PULUMI_BACKEND_URL=${PULUMI_BACKEND_URL:-file://$PWD/.pulumi-state}
if [[ $PULUMI_BACKEND_URL == file://* ]]; then
    mkdir -p "${PULUMI_BACKEND_URL#file://}"
fi

pinned_cli=$(tr -d '[:space:]' <.pulumi.version)
if command -v pulumi >/dev/null 2>&1; then
    pulumi_cli=(pulumi)
    found=$(pulumi version 2>/dev/null | tr -d '[:space:]v' || true)
    if [[ $found != "$pinned_cli" ]]; then
        echo "Note: using the pulumi on PATH (${found:-unknown version}); this project is tested with $pinned_cli (.pulumi.version)." >&2
    fi
else
    # The npm launcher downloads the pinned CLI on first use (needs internet once).
    pulumi_cli=(env "PULUMI_VERSION=$pinned_cli" npx --no-install pulumi)
fi

npm ci --no-audit --no-fund
npm ci --prefix policy --no-audit --no-fund
npm run charts
npm run build

if [[ $action == up ]]; then
    # Offline evaluation first: refuses the stack file's CHANGE-ME placeholders
    # and config mistakes before anything reaches the cloud, and prints the plan.
    npm run -s check -- "$stack" --deploy
fi

policy=()
if [[ $action == preview || $action == up ]]; then
    policy=(--policy-pack policy)
    if [[ -f policy/config/$stack.json ]]; then
        policy+=(--policy-pack-config "policy/config/$stack.json")
    fi
fi

# Creating a stack writes its encryption salt into Pulumi.<stack>.yaml by
# re-marshalling the whole file, which drops every comment (the CHANGE-ME
# markers among them). Keep the file as written, plus only the salt line.
original=$(mktemp)
trap 'rm -f "$original"' EXIT
cp "Pulumi.$stack.yaml" "$original"
"${pulumi_cli[@]}" stack select "$stack" --create --secrets-provider passphrase
if ! grep -q '^encryptionsalt:' "$original" && salt=$(grep '^encryptionsalt:' "Pulumi.$stack.yaml"); then
    { printf '%s\n' "$salt"; cat "$original"; } >"Pulumi.$stack.yaml"
    echo "Pulumi.$stack.yaml now starts with the stack's encryptionsalt: commit it (it is not secret; with the passphrase it decrypts the stack's secrets)." >&2
fi
# Step workers: more than the CLI's default of 4 per CPU, since every agent waiting for the roll lock holds one
# (config/parallel.ts, DEPLOY_PARALLEL, which `npm run check` holds the agent count against). A --parallel among the
# extra arguments comes later and wins.
parallel=64
"${pulumi_cli[@]}" "$action" --stack "$stack" --parallel "$parallel" "${policy[@]}" "$@"
