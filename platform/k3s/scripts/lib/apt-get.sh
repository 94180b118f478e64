# shellcheck shell=bash
# apt_get WHAT ARGS...: apt-get ARGS within one bounded deadline, for the scripts that include it (renderScript,
# platform/k3s/render.ts), which define `fail` and a `scratch` directory. unattended-upgrades holds apt's and dpkg's
# locks for minutes on a fresh Ubuntu VM. DPkg::Lock::Timeout waits for dpkg's own locks only (lock-frontend and lock,
# apt-pkg/deb/debsystem.cc). apt's lists lock (apt-get update) and archives lock (/var/cache/apt/archives/lock,
# install) are taken without waiting (pkgAcquire::GetLock, apt-pkg/acquire.cc; the same in apt 2.4 and 2.7) and fail at
# once while unattended-upgrades holds them. So a lock failure is retried, as is any failure of update (a mirror not
# reachable yet), all within one deadline of APT_LOCK_TIMEOUT seconds, every APT_RETRY_INTERVAL seconds. A lock
# failure is told by its message, which apt translates (gettext, apt-pkg/contrib/fileutl.cc GetLock): LC_ALL=C keeps
# it English whatever the node's or the SSH session's locale (glibc ignores LANGUAGE in the C locale,
# intl/dcigettext.c guess_category_value).
apt_lock_timeout=${APT_LOCK_TIMEOUT:-600}
apt_retry_interval=${APT_RETRY_INTERVAL:-10}
apt_get() {
    local what=$1 deadline=$((SECONDS + apt_lock_timeout)) status errors="${scratch:?}/apt-errors"
    while true; do
        status=0
        timeout $((apt_lock_timeout + 600)) env LC_ALL=C DEBIAN_FRONTEND=noninteractive \
            apt-get -o DPkg::Lock::Timeout=$((deadline > SECONDS ? deadline - SECONDS : 1)) "$@" 2>"$errors" || status=$?
        cat "$errors" >&2
        ((status == 0)) && return 0
        if [[ $what != update ]] && ! grep -qE 'Could not get lock|Unable to lock' "$errors"; then
            fail "apt-get $* failed (status $status)"
        fi
        ((SECONDS < deadline)) || fail "apt-get $what still failed (status $status) after ${apt_lock_timeout}s of retries (an apt lock held: /var/lib/apt/lists/lock, /var/cache/apt/archives/lock or dpkg's; or no package mirror)"
        echo "geoplatform: apt-get $what failed (status $status), retrying in ${apt_retry_interval}s" >&2
        sleep "$apt_retry_interval"
    done
}
