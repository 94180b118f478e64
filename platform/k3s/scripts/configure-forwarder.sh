#!/usr/bin/env bash
# Runs on the bastion: installs haproxy if cloud-init did not, writes its API
# forwarder's haproxy configuration (the servers' addresses) and reloads
# haproxy, so the public API endpoint and the
# registration address (the bastion's private address) reach every server.
# Delivered over SSH rather than in the bastion's user data, which cloud-init
# reads at first boot only: a server that changes address then changes this
# file, not the bastion. Idempotent (an unchanged file reloads nothing), bounded,
# and a configuration haproxy refuses is never installed.
#   HAPROXY_CFG_B64  /etc/haproxy/haproxy.cfg, base64
#   GEOPLATFORM_ROOT  filesystem prefix, empty on the bastion (tests point it elsewhere)
#   APT_LOCK_TIMEOUT, APT_RETRY_INTERVAL  seconds; defaults in lib/apt-get.sh
set -euo pipefail

: "${HAPROXY_CFG_B64:?}"
cfg="${GEOPLATFORM_ROOT:-}/etc/haproxy/haproxy.cfg"

fail() {
    echo "geoplatform: $*" >&2
    exit 1
}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# cloud-init installs haproxy on a new bastion, but waits only 30 s for apt's and dpkg's locks (canonical/cloud-init
# cloudinit/distros/package_management/apt.py, APT_LOCK_WAIT_TIMEOUT, since 23.4): behind unattended-upgrades on a
# first boot its install fails, once for good (a per-instance module), and cloud-init reports an error (status 1).
# haproxy is then installed below, so that status is no reason to stop.
if command -v cloud-init >/dev/null 2>&1; then
    status=0
    timeout 900 cloud-init status --wait >/dev/null || status=$?
    case $status in
        0 | 1 | 2) ;;
        124) fail "cloud-init did not finish within 900s" ;;
        *) fail "cloud-init status --wait failed with status $status" ;;
    esac
fi

# apt_get: apt-get within one bound, retrying while apt's or dpkg's locks are held.
# geoplatform: include apt-get
if ! dpkg -s haproxy >/dev/null 2>&1; then
    apt_get update -qq
    apt_get install -y -qq haproxy
fi
command -v haproxy >/dev/null 2>&1 || fail "haproxy is not installed"

new_cfg="$scratch/haproxy.cfg"
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
