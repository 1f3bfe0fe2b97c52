"""All models, imported here so Alembic and the app see one metadata."""
from .audit import AuditEntry
from .records import KINDS, Photo, Record, RecordPhoto
from .people import ROLES, Child, Consent, Guardian, LoginFailure, Pairing, School, User, Village

__all__ = ["KINDS", "Photo", "Record", "RecordPhoto", "AuditEntry", "Child", "Consent", "Guardian", "LoginFailure", "Pairing", "ROLES", "School", "User", "Village"]
