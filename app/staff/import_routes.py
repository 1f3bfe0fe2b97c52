"""Staff import pages: the template to download and the upload, whose result shows new one-time passwords once."""
from flask import current_app, make_response, render_template, request
from flask_login import current_user

from ..access import requires
from ..tabular import handle_upload, template_response
from ..web import EmptyForm
from . import bp
from .importer import COLUMNS, import_file, template_xlsx

@bp.route("/import", methods=["GET", "POST"])
@requires("manage_staff")
def import_staff():
    form = EmptyForm()
    result, status = None, 200
    if request.method == "POST":
        result, status = handle_upload(form, current_app.config["ROSTER_IMPORT_MAX_BYTES"], lambda name, data: import_file(
            current_user, current_user.school, name, data, current_app.config["STAFF_IMPORT_MAX_ROWS"]))
    resp = make_response(render_template("staff/import.html", form=form, result=result, columns=COLUMNS), status)
    resp.headers["Cache-Control"] = "no-store"  # the result lists one-time passwords
    return resp


@bp.route("/import/template.xlsx")
@requires("manage_staff")
def import_template():
    return template_response(template_xlsx(), "staff-template.xlsx")
