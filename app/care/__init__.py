"""Care beyond the duties: children's categories (分类) with a designated contact person, and each child's plan
(一人一策)."""
from flask import Blueprint

bp = Blueprint("care", __name__)

from . import routes  # noqa: E402,F401
