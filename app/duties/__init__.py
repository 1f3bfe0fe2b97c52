from flask import Blueprint

bp = Blueprint("duties", __name__)

from . import routes, tally  # noqa: E402,F401  (tally: its flush hook keeps DutyTally up to date)
