from flask import Blueprint

bp = Blueprint("duties", __name__)

from . import routes  # noqa: E402,F401
