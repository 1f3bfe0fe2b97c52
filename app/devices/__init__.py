"""The phones a user syncs from: the "my phones" page, wipe orders, both clocks."""
from flask import Blueprint

bp = Blueprint("devices", __name__)

from . import routes  # noqa: E402,F401
