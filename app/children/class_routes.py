"""The principal's page of the school's classes and their class teachers (班主任)."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..access import requires
from ..web import EmptyForm, save_or_flash
from . import bp
from .class_teachers import class_teachers, school_classes, set_class_teachers
from .routes import _teachers
from .services import FileError


@bp.route("/classes", methods=["GET", "POST"])
@requires("manage_children")
def classes():
    form = EmptyForm()
    school_id = current_user.school_id
    if request.method == "POST":
        name = (request.form.get("class_name") or "").strip()
        if not form.validate_on_submit():
            flash(_("页面已过期，请重新提交。"), "error")
        elif not name or len(name) > 32:
            flash(_("请填写班级名称（最多 32 字）。"), "error")
        else:
            ids = [int(v) for v in request.form.getlist("teacher_ids") if v.isdigit() and len(v) < 12]
            if save_or_flash(lambda: set_class_teachers(school_id, name, ids, current_user), _("班主任已保存。"),
                             FileError)[0]:
                return redirect(url_for("children.classes"))
        status = 400
    else:
        status = 200
    return render_template("children/classes.html", form=form, classes=school_classes(school_id),
                           current=class_teachers(school_id), teachers=_teachers()), status
