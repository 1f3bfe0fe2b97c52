from flask import Blueprint

bp = Blueprint("records", __name__)

from . import gallery, routes  # noqa: E402,F401
