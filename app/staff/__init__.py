"""Staff accounts in the app (/staff/): a school's admin manages its staff; the bureau administrator the county's
schools, their principals and admins, and the bureau's own accounts."""
from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")

from . import county_routes, import_routes, routes  # noqa: E402,F401
