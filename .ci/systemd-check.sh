#!/usr/bin/env bash
# Scores the hardening of systemd/*.service with `systemd-analyze security --offline=yes` and fails
# when any unit's overall exposure is above the threshold (default 1.5, or $1).
# Installs nothing: needs systemd-analyze, from Debian's `systemd` package (apt-get install -y systemd).
#
# The units are copied under a private --root: given a plain path, offline mode still merges
# drop-ins from this machine's /etc/systemd/system, and the score must not depend on the machine.
set -euo pipefail

threshold="${1:-1.5}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "systemd-check: systemd-analyze not found; install Debian's 'systemd' package" >&2
    exit 2
fi

root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/etc/systemd/system"
cp "$repo"/systemd/*.service "$repo"/systemd/*.timer "$root/etc/systemd/system/"

export SYSTEMD_COLORS=0 SYSTEMD_PAGER="" LC_ALL=C.UTF-8
echo "systemd-check: $(systemd-analyze --version | head -n 1)"
status=0
for unit in "$repo"/systemd/*.service; do
    name="$(basename "$unit")"
    out="$(systemd-analyze --no-pager security --offline=yes --root="$root" "$name" 2>&1)" || {
        echo "$out" >&2
        echo "systemd-check: systemd-analyze failed on $name" >&2
        exit 1
    }
    if grep -q "Unknown key" <<<"$out"; then
        grep "Unknown key" <<<"$out" >&2
        status=1
    fi
    score="$(sed -n "s/.*Overall exposure level for $name: \([0-9.]*\).*/\1/p" <<<"$out")"
    if [[ -z "$score" ]]; then
        echo "$out" >&2
        echo "systemd-check: no overall exposure found for $name" >&2
        exit 1
    fi
    if awk -v s="$score" -v t="$threshold" 'BEGIN { exit !(s <= t) }'; then
        echo "$name: exposure $score (<= $threshold) OK"
    else
        grep "✗" <<<"$out" || true
        echo "$name: exposure $score (> $threshold) FAIL"
        status=1
    fi
done
exit "$status"
