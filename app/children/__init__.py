from flask import Blueprint

bp = Blueprint("children", __name__, url_prefix="/children")

from . import class_routes, import_routes, pairing_history, routes  # noqa: E402,F401
