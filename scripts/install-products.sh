#!/usr/bin/env bash
# Debian packages behind the products (issue 18), installed when absent. Idempotent.
#  - gdal-bin: ogrinfo / ogr2ogr, which the OGC API tests drive against a live server;
#  - Pango and fonts: what WeasyPrint (briefs as PDF, a pip dependency) draws text with;
#  - poppler-utils: pdftotext, with which the tests read the text of PDF briefs.
set -euo pipefail
need=()
command -v ogrinfo >/dev/null 2>&1 || need+=(gdal-bin)
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
for pkg in libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b fonts-dejavu-core; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
[ ${#need[@]} -eq 0 ] && exit 0
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "Installing ${need[*]} from the OS packages (OGC/GDAL tests, PDF briefs)…"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
command -v ogrinfo >/dev/null && command -v pdftotext >/dev/null
