#!/usr/bin/env bash
# Installs pg_auto_failover for the local PostgreSQL (Debian: postgresql-<ver>-auto-failover,
# which brings pg_autoctl) when absent. Idempotent. Used by `make run-ha` and `make test-ha`.
set -euo pipefail
KINGA_DATABASE_URL= bash "$(dirname "$0")/install-postgis.sh"
ver=$(ls /usr/lib/postgresql | sort -n | tail -1)
have() { command -v pg_autoctl >/dev/null 2>&1 && ls "/usr/share/postgresql/${ver}/extension/pgautofailover.control" >/dev/null 2>&1; }
if have; then exit 0; fi
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "Installing pg_auto_failover from the OS packages…"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "postgresql-${ver}-auto-failover" >/dev/null
have
