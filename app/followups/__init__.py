from flask import Blueprint

bp = Blueprint("followups", __name__)

from . import routes  # noqa: E402,F401
