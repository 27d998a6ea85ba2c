#!/usr/bin/env bash
# Installs PostgreSQL + PostGIS from the Debian packages when absent. Idempotent.
set -euo pipefail
if [ -n "${KINGA_DATABASE_URL:-}" ]; then exit 0; fi
have_postgis() { ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1 && ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; }
if have_postgis; then exit 0; fi
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "Installing PostgreSQL + PostGIS from the OS packages…"
$SUDO apt-get update -qq
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y -qq postgresql >/dev/null
ver=$(ls /usr/lib/postgresql | sort -n | tail -1)
$SUDO apt-get install -y -qq "postgresql-${ver}-postgis-3" >/dev/null
have_postgis
