#!/usr/bin/env bash
# Make sure Debian packages are present; install the missing ones with apt-get when running as
# root (the fresh-machine case of `make run` / `make test` / CI), otherwise say what is missing.
#
# Usage: scripts/apt_ensure.sh PACKAGE[:COMMAND] ...
#   PACKAGE:COMMAND  counts as present when COMMAND is on PATH (e.g. node from another source)
#   PACKAGE          counts as present when dpkg says it is installed
# Set APT_ENSURE_STRICT=1 to fail instead of warning when packages are missing and we cannot
# install them.
set -euo pipefail

missing=()
for spec in "$@"; do
    pkg="${spec%%:*}"
    cmd=""
    [[ "$spec" == *:* ]] && cmd="${spec#*:}"
    if [[ -n "$cmd" ]]; then
        command -v "$cmd" >/dev/null 2>&1 && continue
    elif command -v dpkg-query >/dev/null 2>&1; then
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" && continue
    else
        continue  # not a Debian system: nothing to check against
    fi
    missing+=("$pkg")
done

[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "==> apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    echo "==> installed ${missing[*]}"
    exit 0
fi

echo "warning: missing Debian packages: ${missing[*]}" >&2
echo "         install them with: sudo apt-get install ${missing[*]}" >&2
exit "${APT_ENSURE_STRICT:-0}"
