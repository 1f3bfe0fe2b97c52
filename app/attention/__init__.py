from flask import Blueprint

bp = Blueprint("attention", __name__)

from . import routes  # noqa: E402,F401
