"""The phone's device keys: POST /api/v1/device-key releases the key that unlocks a phone's unsent records."""
from flask import Blueprint

bp = Blueprint("vault", __name__, url_prefix="/api/v1")

from . import routes  # noqa: E402,F401
