#!/usr/bin/env bash
# Smoke test of `make run`: start it in its own var dir on a free port, wait for the login page,
# check /readyz and a demo login, then press "Ctrl-C" (SIGINT to the whole process group) and
# check that web, worker and beat all stop. Prints the seconds to a served login page.
#
# Usage: scripts/smoke_run.sh            (used by .ci/run; PORT and GERIQC_VAR_DIR may be set)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ -n "${GERIQC_VAR_DIR:-}" ]]; then
    VAR_DIR="$GERIQC_VAR_DIR"
else
    VAR_DIR="$(mktemp -d /tmp/geriqc-smoke.XXXXXX)"
    trap 'rm -rf "$VAR_DIR"' EXIT
fi
PORT="${PORT:-$((18000 + RANDOM % 1000))}"
BASE="http://127.0.0.1:$PORT"
LOG="$VAR_DIR/make-run.log"
mkdir -p "$VAR_DIR"

start=$(date +%s)
# setsid: make run gets a process group of its own, like a terminal's foreground job.
GERIQC_VAR_DIR="$VAR_DIR" HOST=127.0.0.1 PORT="$PORT" setsid make run >"$LOG" 2>&1 </dev/null &
pgid=$!

stop() {
    kill -INT -- "-$pgid" 2>/dev/null || return 0
    for _ in $(seq 1 60); do
        pgrep -g "$pgid" >/dev/null || return 0
        sleep 0.5
    done
    echo "smoke: processes still running 30 s after Ctrl-C:" >&2
    pgrep -a -g "$pgid" >&2 || true
    kill -KILL -- "-$pgid" 2>/dev/null || true
    return 1
}

fail() {
    echo "smoke: $*" >&2
    echo "---- last lines of make run ----" >&2
    grep -v "^WARNING: Location" "$LOG" | tail -40 >&2 || true
    stop || true
    exit 1
}

code=000
for _ in $(seq 1 600); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/accounts/login/" || true)
    [[ "$code" == 200 ]] && break
    kill -0 "$pgid" 2>/dev/null || fail "make run exited before serving the login page"
    sleep 0.5
done
[[ "$code" == 200 ]] || fail "login page not served after 300 s (last status $code)"
echo "smoke: login page served $(($(date +%s) - start)) s after make run started"

curl -sf "$BASE/readyz" >/dev/null || fail "/readyz is not 200: $(curl -s "$BASE/readyz")"

PASSWORD="${DEMO_PASSWORD:-$(cat "$VAR_DIR/demo_password")}"
.venv/bin/python - "$BASE" "$PASSWORD" <<'PY' || fail "demo login failed"
import re
import sys

import requests

base, password = sys.argv[1], sys.argv[2]
for username in ("center_admin", "reporter01", "reporter53", "ops_manager"):
    session = requests.Session()
    page = session.get(f"{base}/accounts/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = session.post(
        f"{base}/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/accounts/login/"},
        timeout=10,
    )
    if answer.status_code != 200 or answer.url.rstrip("/").endswith("/accounts/login"):
        sys.exit(f"{username}: login refused ({answer.status_code}, {answer.url})")
print("smoke: demo logins work")
PY

for _ in $(seq 1 60); do
    grep -q "worker@.* ready" "$LOG" && break
    sleep 0.5
done
grep -q "worker@.* ready" "$LOG" || fail "the Celery worker did not report ready"
stop || fail "Ctrl-C did not stop every process"
echo "smoke: Ctrl-C stopped web, worker and beat"
