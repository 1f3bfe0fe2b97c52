from flask import Blueprint

bp = Blueprint("verify", __name__)

from . import api, confirm_routes, review_routes  # noqa: E402,F401
