from flask import Blueprint

bp = Blueprint("notify", __name__)

from . import push_routes, routes  # noqa: E402,F401
