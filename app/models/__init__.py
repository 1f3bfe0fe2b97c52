"""All models, imported here so Alembic and the app see one metadata."""
from .audit import AuditEntry
from .people import ROLES, Child, Consent, Guardian, LoginFailure, Pairing, School, User, Village

__all__ = ["AuditEntry", "Child", "Consent", "Guardian", "LoginFailure", "Pairing", "ROLES", "School", "User", "Village"]
