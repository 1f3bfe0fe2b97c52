from flask import Blueprint

bp = Blueprint("villages", __name__)

from . import routes  # noqa: E402,F401
