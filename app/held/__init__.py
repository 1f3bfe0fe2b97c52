"""Records held for the principal: sent for a child their author was no longer paired with when they did it."""
from flask import Blueprint

bp = Blueprint("held", __name__, url_prefix="/records/held")

from . import routes  # noqa: E402,F401
