"""The audit log: `audit()` records who viewed or changed what; the principal reads their school's log."""
from flask import Blueprint

from .services import audit  # noqa: F401  (every feature records through app.audit.audit)

bp = Blueprint("audit", __name__, url_prefix="/audit")

from . import routes  # noqa: E402,F401
