from flask import Blueprint

bp = Blueprint("sync", __name__, url_prefix="/api/v1")

from . import openapi, routes  # noqa: E402,F401
