"""Group activities (活动): parents' meetings, guardian training, class meetings, lectures, festivals, letters."""
from flask import Blueprint

bp = Blueprint("activities", __name__, url_prefix="/activities")

from . import routes  # noqa: E402,F401
