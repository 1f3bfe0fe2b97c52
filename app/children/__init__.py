from flask import Blueprint

bp = Blueprint("children", __name__, url_prefix="/children")

from . import import_routes, routes  # noqa: E402,F401
