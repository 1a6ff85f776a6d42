#!/usr/bin/env bash
# tools/apt-install.sh PACKAGE... - install those of Debian's PACKAGEs that are
# not installed yet; prints nothing when all are.
#
# Another apt or dpkg run (a developer's, unattended-upgrades) holds its locks
# for a while: this waits for them, up to WT_APT_WAIT seconds (default 600),
# instead of failing at once. `apt-get install` waits by itself with
# DPkg::Lock::Timeout; `apt-get update` has no such option for its list lock,
# so it is retried until the deadline.
set -euo pipefail
missing=""
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -n "$missing" ] || exit 0

sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
wait_s=${WT_APT_WAIT:-600}
deadline=$((SECONDS + wait_s))
echo "apt: installing$missing" >&2
until out=$($sudo apt-get -o DPkg::Lock::Timeout="$wait_s" update -qq 2>&1); do
  if grep -qE 'Could not get lock|Unable to lock' <<<"$out" && [ "$SECONDS" -lt "$deadline" ]; then
    sleep 2
    continue
  fi
  printf '%s\n' "$out" >&2
  echo "apt: apt-get update failed" >&2
  exit 1
done
# sudo resets the environment: DEBIAN_FRONTEND goes through env.
$sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout="$wait_s" \
  install -y -qq --no-install-recommends $missing >&2
