"""Roster import pages: the template to download and the upload with a per-row report."""
from flask import current_app, render_template, request
from flask_login import current_user

from ..access import requires
from ..tabular import handle_upload, template_response
from ..web import EmptyForm
from . import bp
from .importer import COLUMNS, import_file, template_xlsx


@bp.route("/import", methods=["GET", "POST"])
@requires("manage_children")
def import_roster():
    form = EmptyForm()
    result, status = None, 200
    if request.method == "POST":
        result, status = handle_upload(form, current_app.config["ROSTER_IMPORT_MAX_BYTES"], lambda name, data: import_file(
            current_user.school_id, current_user, name, data, current_app.config["ROSTER_IMPORT_MAX_ROWS"]))
    return render_template("children/import.html", form=form, result=result, columns=COLUMNS), status


@bp.route("/import/template.xlsx")
@requires("manage_children")
def import_template():
    return template_response(template_xlsx(), "roster-template.xlsx")
