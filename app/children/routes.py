"""Pages of children's files: lists, the file, the contact card, and the principal's editing."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select

from ..access import can, can_manage_children, children_query, get_child, requires
from ..audit import audit
from ..extensions import db
from ..models import Child, Consent, Guardian, User, Village
from ..photos.services import PhotoRejected, rejection_message, save_bytes
from ..web import EmptyForm, arg_id, paginate, save_or_flash
from . import bp
from .forms import ChildForm, ConsentForm, GuardianForm, LeaveForm, NewChildForm, PairingForm
from .history import history_rows
from .ordering import class_key
from .services import (CHILD_FIELDS, GUARDIAN_FIELDS, LEAVE_FIELDS, FileError, create_child, leave_child, readmit_child,
                       record_consent, save_guardian, set_guardian_photo, set_pairings, update_child,
                       withdraw_consent)

EDITED_FIELDS = [f for f in CHILD_FIELDS if f not in LEAVE_FIELDS]

PAGE_SIZE = 50


def _village_choices():
    villages = db.session.scalars(select(Village).where(Village.school_id == current_user.school_id).order_by(Village.name))
    return [(0, _("（未填）"))] + [(v.id, v.name) for v in villages]


def _teachers():
    return db.session.scalars(
        select(User).where(User.school_id == current_user.school_id, User.role == "teacher", User.active).order_by(User.name)
    ).all()


@bp.route("/")
@requires("read_children")
def index():
    q = children_query(current_user)
    term = (request.args.get("q") or "").strip()[:64]
    class_name = (request.args.get("class") or "").strip()[:32]
    village_id = arg_id("village")
    if term:
        like = f"%{term}%"
        q = q.where(or_(Child.name.like(like), Child.student_no.like(like)))
    if class_name:
        q = q.where(Child.class_name == class_name)
    if village_id:
        q = q.where(Child.village_id == village_id)
    if request.args.get("left") != "1":
        q = q.where(Child.left_on.is_(None))
    pg = paginate(q.order_by(Child.class_name, Child.name), PAGE_SIZE, count=True)
    scope = children_query(current_user).subquery()
    classes = sorted(db.session.scalars(select(scope.c.class_name).distinct().where(scope.c.class_name.is_not(None))), key=class_key)
    villages = db.session.execute(
        select(Village.id, Village.name).where(Village.id.in_(select(scope.c.village_id))).order_by(Village.name)
    ).all()
    audit("list", "child", None, commit=True)
    return render_template(
        "children/index.html", children=pg.items, total=pg.total, page=pg.page, pages=pg.pages,
        classes=classes, villages=villages, term=term, class_name=class_name, village_id=village_id,
        can_manage=can_manage_children(current_user),
    )


@bp.route("/<id:child_id>")
@requires("read_children")
def show(child_id):
    child = get_child(current_user, child_id)
    audit("view", "child", child.id, commit=True)
    care = {}
    if can(current_user, "see_attention"):
        from ..attention.services import entries
        from ..clock import today_local
        from ..followups.services import of_child

        care = {"attention": entries(current_user, child.id), "follow_ups": of_child(current_user, child.id),
                "today": today_local()}
    return render_template("children/show.html", child=child, can_manage=can_manage_children(current_user), form=EmptyForm(),
                           leave_form=LeaveForm(formdata=None), file_history=history_rows(child, current_user), care=care)


@bp.route("/<id:child_id>/card")
@requires("read_children")
def card(child_id):
    child = get_child(current_user, child_id)
    audit("view_card", "child", child.id, commit=True)
    return render_template("children/card.html", child=child)


@bp.route("/new", methods=["GET", "POST"])
@requires("manage_children")
def new():
    form = NewChildForm()
    form.village_id.choices = _village_choices()
    if form.validate_on_submit():
        data = {f: form[f].data for f in EDITED_FIELDS}
        data["village_id"] = form.village_id.data or None
        guardian = {"role": form.g_role.data, "name": form.g_name.data, "relationship_": form.g_relationship.data, "phone": form.g_phone.data}
        consent = {"consented_on": form.consented_on.data, "notice_version": form.notice_version.data}
        saved, child = save_or_flash(lambda: create_child(current_user.school_id, data, guardian, consent, current_user),
                                     _("档案已建立。"), FileError)
        if saved:
            return redirect(url_for("children.show", child_id=child.id))
    return render_template("children/form.html", form=form, child=None), 400 if form.errors else 200


@bp.route("/<id:child_id>/edit", methods=["GET", "POST"])
@requires("manage_children")
def edit(child_id):
    child = get_child(current_user, child_id)
    form = ChildForm(obj=child)
    form.village_id.choices = _village_choices()
    if request.method == "GET":
        form.village_id.data = child.village_id or 0
    if form.validate_on_submit():
        data = {f: form[f].data for f in EDITED_FIELDS}
        data["village_id"] = form.village_id.data or None
        if save_or_flash(lambda: update_child(child, data, current_user), _("档案已保存。"), FileError)[0]:
            return redirect(url_for("children.show", child_id=child.id))
    return render_template("children/form.html", form=form, child=child), 400 if form.errors else 200


@bp.route("/<id:child_id>/guardians/new", methods=["GET", "POST"])
@bp.route("/<id:child_id>/guardians/<id:guardian_id>", methods=["GET", "POST"])
@requires("manage_children")
def guardian(child_id, guardian_id=None):
    child = get_child(current_user, child_id)
    g = None
    if guardian_id is not None:
        g = db.session.scalar(select(Guardian).where(Guardian.id == guardian_id, Guardian.child_id == child.id))
        if g is None:
            abort(404)
    form = GuardianForm(obj=g)
    if form.validate_on_submit():
        upload = form.photo.data
        sha = None
        if upload and upload.filename:
            try:  # the one photo pipeline and store, as the record form's photos; a refusal leaves nothing behind
                sha = save_bytes(current_user, upload.read()).photo.sha256
            except PhotoRejected as e:
                form.photo.errors.append(_("照片无法使用：%(why)s", why=rejection_message(e)))
                return render_template("children/guardian_form.html", form=form, child=child, guardian=g), 400
        data = {f: form[f].data for f in GUARDIAN_FIELDS}
        g = save_guardian(child, data, current_user, g)
        if sha:
            set_guardian_photo(child, g, sha, current_user)
        db.session.commit()
        flash(_("已保存。"), "ok")
        return redirect(url_for("children.show", child_id=child.id))
    return render_template("children/guardian_form.html", form=form, child=child, guardian=g), 400 if form.errors else 200


@bp.route("/<id:child_id>/consent", methods=["GET", "POST"])
@requires("manage_children")
def consent(child_id):
    child = get_child(current_user, child_id)
    form = ConsentForm()
    form.guardian_id.choices = [(g.id, g.name) for g in child.guardians]
    if form.validate_on_submit():
        if save_or_flash(lambda: record_consent(child, form.guardian_id.data, form.consented_on.data,
                                                form.notice_version.data, current_user),
                         _("已记录监护人同意。"), FileError)[0]:
            return redirect(url_for("children.show", child_id=child.id))
    return render_template("children/consent_form.html", form=form, child=child), 400 if form.errors else 200


@bp.route("/<id:child_id>/consent/<id:consent_id>/withdraw", methods=["POST"])
@requires("manage_children")
def consent_withdraw(child_id, consent_id):
    child = get_child(current_user, child_id)
    c = db.session.scalar(select(Consent).where(Consent.id == consent_id, Consent.child_id == child.id))
    if c is None:
        abort(404)
    if EmptyForm().validate_on_submit():
        withdraw_consent(c, current_user)
        db.session.commit()
        flash(_("已记录撤回同意。"), "ok")
    return redirect(url_for("children.show", child_id=child.id))


@bp.route("/<id:child_id>/pairings", methods=["GET", "POST"])
@requires("manage_children")
def pairings(child_id):
    child = get_child(current_user, child_id)
    teachers = _teachers()
    form = PairingForm()
    form.teacher_ids.choices = [(t.id, t.name) for t in teachers]
    form.responsible_id.choices = [(0, _("（未指定）"))] + [(t.id, t.name) for t in teachers]
    if request.method == "GET":
        form.teacher_ids.data = [p.teacher_id for p in child.pairings]
        form.responsible_id.data = child.responsible_teacher.id if child.responsible_teacher else 0
    if form.validate_on_submit():
        if save_or_flash(lambda: set_pairings(child, form.teacher_ids.data or [], form.responsible_id.data or None,
                                              current_user),
                         _("结对已保存。"), FileError)[0]:
            return redirect(url_for("children.show", child_id=child.id))
    return render_template("children/pairings.html", form=form, child=child), 400 if form.errors else 200


@bp.route("/<id:child_id>/leave", methods=["POST"])
@requires("manage_children")
def leave(child_id):
    child = get_child(current_user, child_id)
    form = LeaveForm()
    if form.validate_on_submit():
        save_or_flash(lambda: leave_child(child, form.left_on.data, form.leave_reason.data, current_user),
                      _("已登记离校，档案保留。"), FileError)
    else:
        flash(_("离校须填写离校日期和原因。"), "error")
    return redirect(url_for("children.show", child_id=child.id))


@bp.route("/<id:child_id>/return", methods=["POST"])
@requires("manage_children")
def readmit(child_id):
    child = get_child(current_user, child_id)
    if EmptyForm().validate_on_submit():
        save_or_flash(lambda: readmit_child(child, current_user), _("已登记复学。"), FileError)
    return redirect(url_for("children.show", child_id=child.id))
