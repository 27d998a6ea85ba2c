#!/usr/bin/env bash
# QGIS proof (issue 18): installs Debian's QGIS (qgis python3-qgis, ~1 GB: not part of `make test`)
# when absent, loads the bundled data into a database of its own (`kinga_qgis_proof`, on the
# server of KINGA_DATABASE_URL or the local cluster) with the warnings a historical scan raises,
# serves Kinga on a free loopback port, creates a throw-away analyst token, and runs
# scripts/qgis_check.py with Debian's /usr/bin/python3 offscreen: every OGC collection must open
# with a Basic authcfg and read all its features.
set -euo pipefail
cd "$(dirname "$0")/.."
KINGA=${KINGA:-.venv/bin/kinga}
if ! /usr/bin/python3 -c "import qgis.core" 2>/dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "Installing Debian's QGIS (qgis python3-qgis)…"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends qgis python3-qgis >/dev/null
fi
KINGA_DATABASE_URL=$(.venv/bin/python -c "from bench.common import bench_database; print(bench_database('kinga_qgis_proof'))")
export KINGA_DATABASE_URL
$KINGA seed
PORT=$(.venv/bin/python -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
NAME="qgis-proof-$$"
TOKEN=$($KINGA token create --role analyst --name "$NAME")
LOG=$(mktemp)
KINGA_PORT=$PORT $KINGA serve >"$LOG" 2>&1 &
SERVER=$!
cleanup() { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true;
            rm -f "$LOG"; }
trap cleanup EXIT
for _ in $(seq 1 120); do
  curl -fs -o /dev/null "http://127.0.0.1:$PORT/api/v1/health" && break
  sleep 1
done
curl -fs -X POST -H "Authorization: Bearer $TOKEN" \
  "http://127.0.0.1:$PORT/api/v1/warnings/scan?as_of=2022-12-31" >/dev/null
QT_QPA_PLATFORM=offscreen /usr/bin/python3 scripts/qgis_check.py "http://127.0.0.1:$PORT" "$TOKEN"
