"""The county education bureau's pages (/bureau/): aggregates of the county's schools, never a child."""
from flask import Blueprint

bp = Blueprint("bureau", __name__, url_prefix="/bureau")

from . import care, routes  # noqa: E402,F401
from . import alerts, reports, reviews  # noqa: E402,F401
