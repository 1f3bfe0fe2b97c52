"""Staff import pages: the template to download and the upload, whose result shows new one-time passwords once."""
from flask import Response, current_app, flash, make_response, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from ..access import requires
from ..tabular import UnreadableFile
from ..web import EmptyForm
from . import bp
from .importer import COLUMNS, import_file, template_xlsx

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.route("/import", methods=["GET", "POST"])
@requires("manage_staff")
def import_staff():
    form = EmptyForm()
    result = None
    status = 200
    if request.method == "POST":
        upload = request.files.get("file")
        if not form.validate_on_submit():
            flash(_("页面已过期，请重新选择文件提交。"), "error")
            status = 400
        elif upload is None or not upload.filename:
            flash(_("请选择要导入的文件。"), "error")
            status = 400
        else:
            try:
                data = upload.read(current_app.config["ROSTER_IMPORT_MAX_BYTES"] + 1)
                result = import_file(current_user, current_user.school, upload.filename, data,
                                     current_app.config["STAFF_IMPORT_MAX_ROWS"])
            except UnreadableFile as e:
                flash(str(e), "error")
                status = 400
    resp = make_response(render_template("staff/import.html", form=form, result=result, columns=COLUMNS), status)
    resp.headers["Cache-Control"] = "no-store"  # the result lists one-time passwords
    return resp


@bp.route("/import/template.xlsx")
@requires("manage_staff")
def import_template():
    return Response(template_xlsx(), mimetype=XLSX,
                    headers={"Content-Disposition": "attachment; filename=staff-template.xlsx",
                             "Cache-Control": "private, no-store"})
