#!/usr/bin/env bash
# Runs on the bastion: writes its API forwarder's haproxy configuration (the
# servers' addresses) and reloads haproxy, so the public API endpoint and the
# registration address (the bastion's private address) reach every server.
# Delivered over SSH rather than in the bastion's user data, which cloud-init
# reads at first boot only: a server that changes address then changes this
# file, not the bastion. Idempotent (an unchanged file reloads nothing), bounded,
# and a configuration haproxy refuses is never installed.
#   HAPROXY_CFG_B64  /etc/haproxy/haproxy.cfg, base64
#   GEOPLATFORM_ROOT  filesystem prefix, empty on the bastion (tests point it elsewhere)
set -euo pipefail

: "${HAPROXY_CFG_B64:?}"
cfg="${GEOPLATFORM_ROOT:-}/etc/haproxy/haproxy.cfg"

fail() {
    echo "geoplatform: $*" >&2
    exit 1
}

# cloud-init installs haproxy on a new bastion.
if command -v cloud-init >/dev/null 2>&1; then
    status=0
    timeout 900 cloud-init status --wait >/dev/null || status=$?
    case $status in
        0 | 2) ;;
        124) fail "cloud-init did not finish within 900s" ;;
        *) fail "cloud-init status --wait failed with status $status" ;;
    esac
fi
command -v haproxy >/dev/null 2>&1 || fail "haproxy is not installed (the bastion's cloud-init installs it)"

new_cfg=$(mktemp)
trap 'rm -f "$new_cfg"' EXIT
base64 -d <<<"$HAPROXY_CFG_B64" >"$new_cfg"
timeout 30 haproxy -c -q -f "$new_cfg" || fail "haproxy refuses the new configuration; the running one is kept"
changed=false
if ! cmp -s "$new_cfg" "$cfg"; then
    install -d -m 0755 "$(dirname "$cfg")"
    install -m 0644 "$new_cfg" "$cfg"
    changed=true
fi
timeout 60 systemctl enable haproxy >/dev/null 2>&1 || fail "could not enable haproxy"
if [[ $changed == true ]] || ! timeout 10 systemctl is-active --quiet haproxy; then
    # A reload keeps the connections already open (kubectl watches, agents' tunnels) on the old process.
    timeout 60 systemctl reload-or-restart haproxy || fail "haproxy did not (re)start with the new configuration"
fi
timeout 10 systemctl is-active --quiet haproxy || fail "haproxy is not running"
backends=$(grep -c '^ *server ' "$cfg" || true)
echo "geoplatform: haproxy forwards 6443 to $backends server(s) (configuration changed: $changed)"
