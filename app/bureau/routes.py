"""The bureau's overview of its county's schools."""
from flask import render_template
from flask_login import current_user

from ..access import requires, schools_query
from ..extensions import db
from . import bp


@bp.route("/")
@requires("see_county")
def index():
    schools = db.session.scalars(schools_query(current_user).order_by("name")).all()
    return render_template("bureau/index.html", schools=schools)
