"""Reports and exports: the roster, the monthly report for the bureau, a child's archive, a teacher's term record."""
from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports")

from . import routes  # noqa: E402,F401
from . import reviews, submit_routes  # noqa: E402,F401
