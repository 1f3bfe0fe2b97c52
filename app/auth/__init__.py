from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import api, routes  # noqa: E402,F401
