"""Record pages: the online forms, the child's timeline, my records, one record."""
from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload

from ..access import can, children_query, get_child, get_record, may_read_content, records_query, requires
from ..audit import audit
from ..clock import CHINA, INPUT_FORMAT, as_utc, input_now, today_local
from ..extensions import db
from ..children.ordering import by_class
from ..models import Child, Record, RecordPhoto
from ..photos.services import PhotoRejected, rejection_message, save_bytes
from ..web import EmptyForm, arg_id, paginate
from . import bp
from .counselling import emergency_url, is_high_risk
from ..verify.returns import EVIDENCE_FIELDS, deadline_of
from .kinds import KINDS, kinds_for_writer
from .services import ingest

PAGE_SIZE = 30


def _kind_or_404(name: str):
    kind = KINDS.get(name)
    if kind is None or current_user.role not in kind.writers or kind.form or kind.group:  # their own views in the app
        abort(404)
    return kind


def _timeline(q, kind_filter: str | None):
    if kind_filter in KINDS:
        q = q.where(Record.kind == kind_filter)
    q = q.options(selectinload(Record.photos).selectinload(RecordPhoto.photo), selectinload(Record.author), selectinload(Record.child))
    return paginate(q.order_by(Record.occurred_at.desc(), Record.id.desc()), PAGE_SIZE)


@bp.route("/records/new/<kind_name>", methods=["GET", "POST"])
@requires("write_records")
def new(kind_name):
    kind = _kind_or_404(kind_name)
    children = by_class(db.session.scalars(children_query(current_user).where(Child.left_on.is_(None)).order_by(Child.class_name, Child.name)))
    form = EmptyForm()
    errors: dict = {}
    values = request.form if request.method == "POST" else {}
    original, returned_because = _correcting(kind)
    if request.method == "GET" and kind.name == "follow_up":  # "arrange a follow-up" from a record
        values = {"source_id": str(arg_id("source_id", request.args) or "")}
    if original is not None and request.method == "GET":
        # The same visit described again: its time and fields as the original has them (the code and the signature
        # are the original's evidence, inherited by the correction, not typed again).
        values = {k: ("y" if v is True else v) for k, v in (original.fields or {}).items()
                  if v is not False and k not in EVIDENCE_FIELDS}
        values["occurred_at"] = as_utc(original.occurred_at).astimezone(CHINA).strftime(INPUT_FORMAT)
    if form.validate_on_submit():
        errors = _save_form(kind, original)
        if not errors:
            saved = _stored(request.form.get("client_id", ""))
            if saved is not None and is_high_risk(saved):
                # The record's page is the confirmation here: it offers to open an emergency at once.
                flash(_("已保存。已提醒校长（提醒中不含记录内容）。"), "ok")
                return redirect(url_for("records.show", record_id=saved.id))
            flash(_("已保存。"), "ok")
            return redirect(url_for("records.child_timeline", child_id=int(request.form["child_id"])))
        db.session.rollback()
    elif request.method == "POST":
        errors = {"form": _("表单已过期，请重新提交。")}
    return render_template(
        "records/form.html", kind=kind, children=children, form=form, errors=errors, values=values,
        client_id=values.get("client_id") or str(uuid.uuid4()), now=input_now(),
        child_id=(original.child_id if original is not None else None) or request.values.get("child", type=int)
        or request.form.get("child_id", type=int),
        original=original, returned_because=returned_because, today=today_local(),
        deadline=deadline_of(returned_because.at) if returned_because else None,
    ), 400 if errors else 200


def _stored(client_id: str) -> Record | None:
    """The record the form just saved, by its client id."""
    try:
        cid = str(uuid.UUID(client_id))
    except ValueError:
        return None
    return db.session.scalar(records_query(current_user).where(Record.client_id == cid))


def _correcting(kind):
    """The returned record this form corrects (?corrects=<id>), with the principal's reason; 404 if the form may not
    correct it. A submitted correction is checked once, by ingest (the same rule as the sync API)."""
    rid = arg_id("corrects", request.values)
    if rid is None:
        return None, None
    from ..verify.returns import latest_returns
    from ..verify.services import correction_error

    original = get_record(current_user, rid)
    if request.method == "GET" and correction_error(current_user, original.id, kind.name, original.child_id):
        abort(404)
    return original, latest_returns([original.id]).get(original.id)


def _save_form(kind, original=None) -> dict:
    """Upload the form's photos, then store the record through the same service as the sync API."""
    hashes = []
    if original is not None and request.form.get("keep_photos"):
        hashes = [rp.photo.sha256 for rp in original.photos if rp.photo.uploader_id == current_user.id]
    for f in request.files.getlist("photos"):
        if not f or not f.filename:
            continue
        try:
            hashes.append(save_bytes(current_user, f.read()).photo.sha256)
        except PhotoRejected as e:
            return {"photos": _("照片 %(name)s 无法使用：%(why)s", name=f.filename[:60], why=rejection_message(e))}
    fields = {}
    for fd in kind.fields:
        if fd.type == "bool":
            fields[fd.name] = fd.name in request.form
        elif fd.type == "signature":
            sha, why = _save_signature(request.form.get(fd.name + "_png", ""))
            if why:
                return {fd.name: why}
            fields[fd.name] = sha or ""
        else:
            fields[fd.name] = request.form.get(fd.name, "")
    occurred = request.form.get("occurred_at", "")
    item = {
        "id": request.form.get("client_id", ""), "kind": kind.name, "child_id": request.form.get("child_id", type=int),
        "occurred_at": occurred + (":00" if len(occurred) == 16 else ""), "fields": fields, "photos": hashes,
        "client": {"saved_at": datetime.now(CHINA).isoformat(), "online": True},
    }
    if original is not None:
        item["corrects_id"] = original.id
    result = ingest(current_user, [item], source="form")[0]
    if result["status"] in ("created", "duplicate"):
        return {}
    errors = {k.removeprefix("fields."): v for k, v in result.get("errors", {}).items()} or {"form": _("保存失败。")}
    if "corrects_id" in errors:  # the form has no such field: say it at the top
        errors["form"] = errors.pop("corrects_id")
    return errors


SIGNATURE_MAX_BYTES = 512 * 1024


def _save_signature(data_url: str) -> tuple[str | None, str | None]:
    """A signature drawn on the online form arrives as a PNG data URL; store it as a photo of kind signature."""
    if not data_url:
        return None, None
    prefix = "data:image/png;base64,"
    if not data_url.startswith(prefix) or len(data_url) > SIGNATURE_MAX_BYTES * 4 // 3 + 100:
        return None, _("签名图片无法使用，请清除后重签。")
    try:
        data = base64.b64decode(data_url[len(prefix):], validate=True)
    except (binascii.Error, ValueError):
        return None, _("签名图片无法使用，请清除后重签。")
    try:
        return save_bytes(current_user, data, kind="signature").photo.sha256, None
    except PhotoRejected:
        return None, _("签名图片无法使用，请清除后重签。")


@bp.route("/children/<id:child_id>/records")
@requires("read_children")
def child_timeline(child_id):
    child = get_child(current_user, child_id)
    kind = request.args.get("kind")
    pg = _timeline(records_query(current_user).where(Record.child_id == child.id), kind)
    audit("view_records", "child", child.id, commit=True)
    return render_template(
        "records/timeline.html", child=child, records=pg.items, kind=kind if kind in KINDS else None, page=pg.page,
        has_next=pg.has_next, kinds=[k for k in KINDS.values() if not k.confidential or can(current_user, "see_counselling")],
        writable=kinds_for_writer(current_user.role),
    )


@bp.route("/records/mine")
@requires("write_records")
def mine():
    kind = request.args.get("kind")
    pg = _timeline(records_query(current_user).where(Record.author_id == current_user.id), kind)
    return render_template("records/mine.html", records=pg.items, kind=kind if kind in KINDS else None, page=pg.page,
                           has_next=pg.has_next, kinds=kinds_for_writer(current_user.role))


@bp.route("/records/<id:record_id>")
@login_required
def show(record_id):
    record = get_record(current_user, record_id)
    audit("view", "record", record.id, commit=True)
    return render_template("records/show.html", record=record, kind=KINDS[record.kind],
                           content=may_read_content(current_user, record), high_risk=is_high_risk(record),
                           can_report=can(current_user, "report_incidents"), emergency_url=emergency_url(record))


