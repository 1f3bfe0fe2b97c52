"""/attention/: the children who need attention that the caller sees, why, since when, who follows up by when."""
from __future__ import annotations

from flask import render_template
from flask_login import current_user

from ..access import can, requires
from ..audit import audit
from ..clock import today_local
from . import bp
from .services import entries


@bp.route("/attention/")
@requires("see_attention")
def index():
    rows = entries(current_user)
    audit("view_attention", "school", current_user.school_id, commit=True)
    return render_template("attention/index.html", rows=rows, today=today_local(),
                           can_write=can(current_user, "write_records"))
