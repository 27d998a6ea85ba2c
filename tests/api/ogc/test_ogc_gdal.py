"""Every OGC API - Features collection through GDAL against a live server, as analysts' tools
read it: `ogrinfo -al -so` declares the collection's geometry type and counts its features, and
`ogr2ogr -f GPKG` copies every feature (all pages) into a GeoPackage. Authentication is HTTP
Basic with the token as the password (GDAL_HTTP_AUTH=BASIC), and a bearer header for one.

Needs gdal-bin (`make test` installs it through scripts/install-products.sh)."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime

import httpx
import psycopg
import pyogrio
import pytest

from app.cli.support import create_token
from app.domain import Role
from app.services.incidents.import_pipeline import import_file
from app.services.ogc.collections import catalogue
from app.settings import PROJECT_ROOT
from tests.support.server import served_app

ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"
GDAL_GEOMETRY = {"Point": "Point", "Polygon": "Polygon", "MultiPolygon": "Multi Polygon"}


def _gdal(args: list[str], env: dict[str, str]) -> str:
    tool = shutil.which(args[0])
    assert tool, f"{args[0]} is missing: run `bash scripts/install-products.sh` (gdal-bin)"
    done = subprocess.run([tool, *args[1:]], env=env, capture_output=True, text=True,  # noqa: S603
                          timeout=600, check=False)
    assert done.returncode == 0, f"{' '.join(args)}\n{done.stdout}\n{done.stderr}"
    assert "ERROR" not in done.stderr, done.stderr
    return done.stdout


@pytest.fixture
def bundled_mission(db_url, settings):
    """The bundled real data: UCDP events and Geo-PKO bases (tables are emptied after each test)."""
    from app.repositories.bases import import_rows
    from app.services.bases.registry import geopko_bases

    with psycopg.connect(db_url) as c:
        import_file(c, "ucdp", settings.geodata_dir / "ucdp-ged-v23.1-caf.geojson",
                    actor="test:gdal", h3_res=settings.h3_resolution)
        rows = geopko_bases(settings.geodata_dir / "geopko-minusca-deployments.csv",
                            settings.troops_per_road_patrol, settings.troops_per_foot_patrol)
        import_rows(c, rows, actor="test:gdal")


async def _scan_live_at_end_of_2022(settings) -> list[str]:
    from app.db import make_async_engine, make_sessionmaker
    from app.services.warnings.lifecycle import scan_hotspots

    engine = make_async_engine(settings)
    try:
        async with make_sessionmaker(engine)() as session:
            out = await scan_hotspots(session, settings, now=datetime(2023, 1, 1, tzinfo=UTC),
                                      as_of=datetime(2022, 12, 31, 23, 59, tzinfo=UTC))
    finally:
        await engine.dispose()
    return list(out["raised"])


def test_every_collection_opens_and_copies_in_gdal(settings, bundled_mission, tmp_path):
    token = create_token(settings, Role.analyst, "gdal-test")
    assert settings.database_url is not None
    with served_app(settings.database_url.get_secret_value(), ARTIFACTS / "gdal-server.log",
                    env={"KINGA_BRIEF_SCHEDULE": "false"}, ready_within_s=120) as (base, _):
        headers = {"Authorization": f"Bearer {token}"}
        # Warnings (polygons) in the store: the rule scan as it ran live at the end of 2022 (a
        # historical scan through the API stores nothing).
        assert asyncio.run(_scan_live_at_end_of_2022(settings))
        env = {**os.environ, "GDAL_HTTP_AUTH": "BASIC", "GDAL_HTTP_USERPWD": f"qgis:{token}",
               "CPL_DEBUG": "OFF"}
        listed = _gdal(["ogrinfo", "-ro", "-q", f"OAPIF:{base}/ogc"], env)
        results = {}
        for cid, collection in catalogue().items():
            assert re.search(rf"^\d+: {re.escape(cid)} ", listed, re.M), listed
            matched = httpx.get(f"{base}/ogc/collections/{cid}/items", params={"limit": 1},
                                headers=headers, timeout=120).json()["numberMatched"]
            info = _gdal(["ogrinfo", "-ro", "-al", "-so", "-oo", "PAGE_SIZE=1000",
                          f"OAPIF:{base}/ogc", cid], env)
            geometry = re.search(r"^Geometry: (.+)$", info, re.M)
            count = re.search(r"^Feature Count: (\d+)$", info, re.M)
            assert geometry and geometry.group(1) == GDAL_GEOMETRY[collection.geometry_type], info
            assert count and int(count.group(1)) == matched, info
            out = tmp_path / f"{cid}.gpkg"
            _gdal(["ogr2ogr", "-f", "GPKG", "-oo", "PAGE_SIZE=1000", str(out),
                   f"OAPIF:{base}/ogc", cid], env)
            meta = pyogrio.read_info(out, layer=cid)
            assert meta["features"] == matched, (cid, meta["features"], matched)
            assert meta["geometry_type"] == collection.geometry_type, meta
            results[cid] = matched
        # On the bundled data every collection but none has features in its default window.
        assert all(n > 0 for n in results.values()), results
        # A bearer header works too (GDAL_HTTP_HEADERS), for GDAL builds set up that way.
        bearer_env = {**os.environ, "GDAL_HTTP_HEADERS": f"Authorization: Bearer {token}"}
        info = _gdal(["ogrinfo", "-ro", "-al", "-so", f"OAPIF:{base}/ogc", "hotspots"], bearer_env)
        assert "Geometry: Polygon" in info
