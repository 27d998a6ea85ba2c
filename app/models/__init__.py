from app.models.base import Base
from app.models.incident import AuditEvent, ImportRun, Incident, Report
from app.models.token import ApiToken

__all__ = ["ApiToken", "AuditEvent", "Base", "ImportRun", "Incident", "Report"]
