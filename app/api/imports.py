"""Upload an ACLED or UCDP export: /api/v1/imports. Rows land `validated`; an admin may land
them approved with `approve=true` (audited per batch)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated

import psycopg
from fastapi import APIRouter, Depends, File, Form, UploadFile
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from app.api.http import json_response
from app.db import libpq_url
from app.deps import SettingsDep, require
from app.domain import Role
from app.localdb import resolve_url
from app.schemas.incidents import ImportResult
from app.services.auth import Principal
from app.services.incidents.import_pipeline import import_file, landing_status

router = APIRouter(prefix="/api/v1/imports", tags=["imports"])


@router.post("", status_code=201, summary="Import a UCDP GED (GeoJSON/CSV) or ACLED (CSV) export",
             response_model=ImportResult)
async def create_import(
    settings: SettingsDep,
    who: Annotated[Principal, Depends(require(Role.admin, Role.analyst))],
    source: Annotated[str, Form(pattern="^(ucdp|acled)$")],
    file: Annotated[UploadFile, File()],
    status: Annotated[str | None, Form(
        pattern="^(entered|validated|approved)$",
        description="workflow status of the new rows (default validated; approved: admins only)",
    )] = None,
    approve: Annotated[bool, Form(
        description="admins only: land the new rows approved (audited as one approval of the "
                    "batch)")] = False,
) -> Response:
    status = landing_status(who.role, status, approve)  # refused before anything is stored
    suffix = Path(file.filename or "upload.csv").suffix or ".csv"
    with tempfile.NamedTemporaryFile(suffix=suffix, delete=False) as tmp:
        shutil.copyfileobj(file.file, tmp)
        path = Path(tmp.name)

    url = libpq_url(resolve_url(settings))

    def run() -> dict[str, object]:
        with psycopg.connect(url) as conn:
            return import_file(conn, source, path, status=status, actor=who.actor,
                               h3_res=settings.h3_resolution, filename=file.filename or path.name,
                               connect=lambda: psycopg.connect(url)).as_dict()

    try:
        summary = await run_in_threadpool(run)
    finally:
        path.unlink(missing_ok=True)
    return json_response(summary, status=201)
