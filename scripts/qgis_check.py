"""QGIS proof (issue 18): Debian's QGIS, through PyQGIS offscreen, signs in to Kinga's OGC API -
Features with a Basic authentication configuration (the API token as the password) and reads every
collection the role may see. Run by scripts/qgis-proof.sh with Debian's /usr/bin/python3:

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 scripts/qgis_check.py BASE_URL TOKEN

Prints one line per collection (valid, geometry type, features read, numberMatched from the API)
and exits 1 if any collection does not open or reads no feature where the API has some."""

from __future__ import annotations

import base64
import json
import os
import sys
import tempfile
import urllib.request


def api(url: str, token: str) -> dict:
    auth = base64.b64encode(f"qgis:{token}".encode()).decode()
    req = urllib.request.Request(url, headers={"Authorization": f"Basic {auth}"})  # noqa: S310
    with urllib.request.urlopen(req, timeout=300) as r:  # noqa: S310 (loopback)
        return json.loads(r.read())


def main() -> int:
    base, token = sys.argv[1].rstrip("/"), sys.argv[2]
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    profile = tempfile.mkdtemp(prefix="kinga-qgis-")
    os.environ["QGIS_AUTH_DB_DIR_PATH"] = profile

    from qgis.core import (  # Debian's python3-qgis
        Qgis,
        QgsApplication,
        QgsAuthMethodConfig,
        QgsVectorLayer,
        QgsWkbTypes,
    )

    QgsApplication.setPrefixPath("/usr", True)
    qgs = QgsApplication([], False)
    qgs.initQgis()
    _keep = qgs  # noqa: F841 (the application must outlive the layers)
    print(f"QGIS {Qgis.QGIS_VERSION}")
    auth = QgsApplication.authManager()
    auth.setMasterPassword("kinga-qgis-proof", True)
    cfg = QgsAuthMethodConfig()
    cfg.setName("kinga")
    cfg.setMethod("Basic")
    cfg.setConfig("username", "qgis")
    cfg.setConfig("password", token)
    if not auth.storeAuthenticationConfig(cfg):
        print("could not store the Basic authentication configuration")
        return 1
    failures = 0
    collections = api(f"{base}/ogc/collections", token)["collections"]
    for c in collections:
        cid = c["id"]
        matched = api(f"{base}/ogc/collections/{cid}/items?limit=1", token)["numberMatched"]
        uri = (f"url='{base}/ogc' typename='{cid}' authcfg='{cfg.id()}' pageSize='1000' "
               "pagingEnabled='true' restrictToRequestBBOX='0'")
        layer = QgsVectorLayer(uri, cid, "OAPIF")
        read = sum(1 for _ in layer.getFeatures()) if layer.isValid() else 0
        ok = layer.isValid() and read == matched
        failures += not ok
        print(f"{cid:18} valid={layer.isValid()!s:5} geometry="
              f"{QgsWkbTypes.displayString(layer.wkbType()):14} features read={read:5} "
              f"numberMatched={matched:5} {'ok' if ok else 'FAILED'}")
    sys.stdout.flush()
    # QGIS 3.22 can crash while tearing down from a script (exitQgis): leave without it.
    os._exit(1 if failures else 0)


if __name__ == "__main__":
    sys.exit(main())
