# Sourced by setup-system.sh: apt-get that waits, with a bound, for another apt/dpkg run
# (unattended-upgrades, a second setup, another agent) to release its lock instead of failing at
# once with exit 100. The bound is EIC_BUILD_APT_LOCK_TIMEOUT seconds (default 300).
APT_LOCK_TIMEOUT="${EIC_BUILD_APT_LOCK_TIMEOUT:-300}"

# `apt-get update` takes the lists lock, which DPkg::Lock::Timeout does not cover: retry it while
# the only failure is a held lock. Extra arguments go to apt-get (e.g. -o Dir::State::Lists=…).
apt_update_waiting() {
  local deadline=$((SECONDS + APT_LOCK_TIMEOUT)) log rc
  log="$(mktemp)"
  for (( ; ; )); do
    rc=0
    apt-get update -qq -o DPkg::Lock::Timeout="$APT_LOCK_TIMEOUT" "$@" 2>"$log" || rc=$?
    if [ "$rc" -eq 0 ]; then cat "$log" >&2; rm -f "$log"; return 0; fi
    if ! grep -q 'Could not get lock\|Unable to lock' "$log" || [ "$SECONDS" -ge "$deadline" ]; then
      cat "$log" >&2
      grep -q 'Could not get lock\|Unable to lock' "$log" && echo "apt lock still held after ${APT_LOCK_TIMEOUT} s (EIC_BUILD_APT_LOCK_TIMEOUT); stop the other apt run and retry" >&2
      rm -f "$log"
      return "$rc"
    fi
    echo "apt-get update: waiting for another apt run to release its lock ($((deadline - SECONDS)) s left)" >&2
    sleep 2
  done
}

# apt-get install waits for dpkg's frontend lock itself (DPkg::Lock::Timeout, apt >= 1.9.11).
apt_install_waiting() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout="$APT_LOCK_TIMEOUT" --no-install-recommends "$@"
}
