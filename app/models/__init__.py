"""All tables. Every module in this package is imported so Alembic and tests see its tables."""

import importlib
import pkgutil

from app.models.base import Base, table
from app.models.incident import AuditEvent, ImportRun, Incident, Report
from app.models.token import ApiToken

for _mod in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_mod.name}")

__all__ = ["ApiToken", "AuditEvent", "Base", "ImportRun", "Incident", "Report", "table"]
