"""Roster import pages: the template to download and the upload with a per-row report."""
from flask import Response, current_app, flash, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from ..access import requires
from ..web import EmptyForm
from . import bp
from .importer import COLUMNS, UnreadableFile, import_file, template_xlsx

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.route("/import", methods=["GET", "POST"])
@requires("manage_children")
def import_roster():
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
                # One byte past the limit is enough to refuse the file without holding all of it.
                data = upload.read(current_app.config["ROSTER_IMPORT_MAX_BYTES"] + 1)
                result = import_file(current_user.school_id, current_user, upload.filename, data,
                                     current_app.config["ROSTER_IMPORT_MAX_ROWS"])
            except UnreadableFile as e:
                flash(str(e), "error")
                status = 400
    return render_template("children/import.html", form=form, result=result, columns=COLUMNS), status


@bp.route("/import/template.xlsx")
@requires("manage_children")
def import_template():
    return Response(template_xlsx(), mimetype=XLSX,
                    headers={"Content-Disposition": "attachment; filename=roster-template.xlsx",
                             "Cache-Control": "private, no-store"})
