#!/usr/bin/env bash
# Build GeriQC's front-end assets: install the npm packages pinned in package-lock.json (only when
# node_modules is missing or older than the lock) and copy the files the templates load into
# static/vendor/ (git-ignored). No CDN is used at run time: hospital intranets have no internet.
#
# Usage: scripts/build_assets.sh            (called by `make run` and `make test`)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
NM="$ROOT/node_modules"
OUT="$ROOT/static/vendor"

needs_install() {
    [[ ! -d "$NM" ]] && return 0
    # npm keeps a copy of the lock it installed from; a newer package-lock.json means re-install.
    [[ ! -f "$NM/.package-lock.json" ]] && return 0
    [[ "$ROOT/package-lock.json" -nt "$NM/.package-lock.json" ]] && return 0
    return 1
}

if needs_install; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "build_assets: npm is not installed (Debian: apt-get install -y nodejs npm)." >&2
        exit 1
    fi
    echo "build_assets: npm ci"
    npm ci --no-audit --no-fund
fi

# The copy is keyed on the lock and this script: when neither changed, there is nothing to do.
STAMP="$(cat "$ROOT/package-lock.json" "${BASH_SOURCE[0]}" | sha256sum | cut -d' ' -f1)"
if [[ -f "$OUT/.stamp" && "$(cat "$OUT/.stamp")" == "$STAMP" && -d "$NM" ]] && ! needs_install; then
    echo "build_assets: static/vendor is up to date"
    exit 0
fi

copy() {  # copy SRC (relative to node_modules) into DEST_DIR (relative to static/vendor)
    local src="$NM/$1" dest="$STAGE/$2"
    if [[ ! -f "$src" ]]; then
        echo "build_assets: missing $src — is package-lock.json in step with package.json?" >&2
        exit 1
    fi
    mkdir -p "$dest"
    cp -p "$src" "$dest/"
}

# Assemble next to the target and swap it in, so a running server never sees a half-built tree.
STAGE="$OUT.build.$$"
rm -rf "$STAGE"
trap 'rm -rf "$STAGE"' EXIT
copy bootstrap/dist/css/bootstrap.min.css bootstrap
copy bootstrap/dist/css/bootstrap.min.css.map bootstrap
copy bootstrap/dist/js/bootstrap.bundle.min.js bootstrap
copy bootstrap/dist/js/bootstrap.bundle.min.js.map bootstrap
copy bootstrap-icons/font/bootstrap-icons.min.css bootstrap-icons
copy bootstrap-icons/font/fonts/bootstrap-icons.woff2 bootstrap-icons/fonts
copy bootstrap-icons/font/fonts/bootstrap-icons.woff bootstrap-icons/fonts
copy htmx.org/dist/htmx.min.js htmx
copy echarts/dist/echarts.min.js echarts
for pkg in bootstrap bootstrap-icons htmx.org echarts; do
    copy "$pkg/LICENSE" "licenses/$pkg"
done
echo "$STAMP" > "$STAGE/.stamp"
rm -rf "$OUT"
# -T: never nest the new tree inside one that a concurrent build has just put in place.
mv -T "$STAGE" "$OUT" 2>/dev/null || echo "build_assets: another build finished first; keeping it"
echo "build_assets: static/vendor ready ($(find "$OUT" -type f | wc -l) files)"
