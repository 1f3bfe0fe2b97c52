"""The start-of-term survey (每学期初摸底): proposals from the field, the principal's review, progress and reminders."""
from flask import Blueprint

bp = Blueprint("surveys", __name__, url_prefix="/surveys")

from . import routes  # noqa: E402,F401
