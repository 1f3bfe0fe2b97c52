from flask import Blueprint

bp = Blueprint("photos", __name__)

from . import routes  # noqa: E402,F401
