#!/usr/bin/env bash
# Screenshots of the Prefect UI for docs/operations.md, taken with headless Chromium.
# Needs the local stack (`shopgraph services up`). Chromium comes from the system: when it is missing and
# this runs as root on Debian/Ubuntu it is installed with apt (`chromium`, no recommends); otherwise the
# script says what to install. Usage: deploy/screenshot.sh [OUT_DIR] (default docs/img).
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${1:-docs/img}
BIN=${BIN:-.venv/bin}
API=$("$BIN/python" -c 'from shopgraph.settings import load_settings; print(f"http://127.0.0.1:{load_settings().prefect.port}")')

find_chromium() {
  for name in chromium chromium-browser google-chrome google-chrome-stable; do
    if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return 0; fi
  done
  return 1
}

CHROMIUM=$(find_chromium || true)
if [[ -z "$CHROMIUM" ]]; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "installing chromium with apt-get (no recommends)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
    CHROMIUM=$(find_chromium)
  else
    echo "no chromium found: install it (Debian/Ubuntu: apt-get install chromium) and run again" >&2
    exit 1
  fi
fi

if ! curl -fsS "$API/api/health" >/dev/null; then
  echo "the Prefect server at $API does not answer: run \`shopgraph services up\` first" >&2
  exit 1
fi

deployment_id() {  # the id of deployment $1/$2 through the Prefect REST API
  curl -fsS "$API/api/deployments/name/$1/$2" | "$BIN/python" -c 'import json, sys; print(json.load(sys.stdin)["id"])'
}

shoot() {  # shoot NAME PATH: a 1440x900 PNG of the UI page at PATH after its scripts have run
  "$CHROMIUM" --headless=new --no-sandbox --disable-gpu --hide-scrollbars --window-size=1440,900 \
    --virtual-time-budget=20000 --screenshot="$OUT/$1.png" "$API$2" 2>/dev/null
  echo "$OUT/$1.png"
}

mkdir -p "$OUT"
shoot prefect-deployments /deployments
shoot prefect-backfill-form "/deployments/deployment/$(deployment_id backfill backfill)/run"
