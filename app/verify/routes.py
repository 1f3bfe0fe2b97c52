"""Pages of verification: the committee's queue, the principal's review queue, "returned to me", villages.

Every query starts from app.access (records_query, children_query): a committee member sees only the home
visits of their own village, a principal their school, a teacher their own records. Unknown ids answer 404.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import evidence
from ..access import CAPABILITIES, get_record, records_query, requires
from ..clock import CHINA
from ..extensions import db
from ..models import REVIEW_STATES, Child, Record, RecordPhoto, ReviewEvent, User, Village
from ..web import EmptyForm, paginate, save_or_flash
from . import api  # noqa: F401  (registers the API route on this blueprint)
from . import bp
from .services import VerifyError, approve, confirm, return_for_correction

PAGE_SIZE = 20


def _with_photos(q):
    return q.options(selectinload(Record.photos).selectinload(RecordPhoto.photo), selectinload(Record.author),
                     selectinload(Record.child))


# --- committee: visits waiting for confirmation -------------------------------------------------------------------

@bp.route("/confirm/")
@requires("confirm_visits")
def confirm_queue():
    done = request.args.get("show") == "done"
    q = records_query(current_user).where(Record.kind == "home_visit")
    if done:
        q = q.where(Record.confirm_state.in_(("confirmed", "disputed")))
    else:
        q = q.where(Record.confirm_state.in_(("none", "signed")), Record.review_state != "corrected")
    pg = paginate(_with_photos(q).order_by(Record.occurred_at.desc(), Record.id.desc()), PAGE_SIZE)
    return render_template("verify/confirm_queue.html", records=pg.items, has_next=pg.has_next,
                           page=pg.page, done=done, form=EmptyForm())


@bp.route("/confirm/<int:record_id>", methods=["POST"])
@requires("confirm_visits")
def confirm_record(record_id):
    record = get_record(current_user, record_id)  # only home visits of the member's own village: else 404
    form = EmptyForm()
    if not form.validate_on_submit():
        flash(_("表单已过期，请重新提交。"), "error")
        return redirect(url_for("verify.confirm_queue"))
    action = request.form.get("action")
    if action not in ("confirm", "dispute"):
        abort(400)
    if record.confirm_state in ("confirmed", "disputed"):
        flash(_("这次家访已经处理过了。"), "warn")
        return redirect(url_for("verify.confirm_queue"))
    saved = save_or_flash(lambda: confirm(record, current_user, action == "confirm", request.form.get("comment")),
                          _("已确认这次家访。") if action == "confirm" else _("已提出异议，校长会看到您的说明。"),
                          VerifyError)[0]
    return redirect(url_for("verify.confirm_queue") + ("" if saved else f"#r{record.id}"))


# --- principal: review queue ----------------------------------------------------------------------------------------

def _review_filters():
    """The queue's filters from the query string, each checked against what the principal may pick."""
    state = request.args.get("state", "received")
    if state not in REVIEW_STATES + ("all",):
        state = "received"
    teacher_id = request.args.get("teacher", type=int)
    village_id = request.args.get("village", type=int)
    day = None
    if request.args.get("day"):
        try:
            day = datetime.strptime(request.args["day"], "%Y-%m-%d").date()
        except ValueError:
            flash(_("日期格式应为 年-月-日。"), "error")
    flagged = request.args.get("flagged") == "1"
    return state, teacher_id, village_id, day, flagged


@bp.route("/review/")
@requires("review_records")
def review_queue():
    state, teacher_id, village_id, day, flagged = _review_filters()
    q = records_query(current_user).where(Record.kind.in_(evidence.EVIDENCE_KINDS))
    if state != "all":
        q = q.where(Record.review_state == state)
    if teacher_id:
        q = q.where(Record.author_id == teacher_id)
    if village_id:
        q = q.where(Record.child_id.in_(select(Child.id).where(Child.village_id == village_id)))
    if day:
        start = datetime.combine(day, time(0), CHINA)
        q = q.where(Record.occurred_at >= start, Record.occurred_at < start + timedelta(days=1))
    if flagged:
        q = q.where(Record.score > evidence.UNREMARKABLE_MAX_SCORE)
    pg = paginate(_with_photos(q).order_by(Record.score.desc(), Record.occurred_at.desc(), Record.id.desc()), PAGE_SIZE,
                  count=True)
    teachers = db.session.scalars(select(User).where(User.school_id == current_user.school_id,
                                                     User.role.in_(CAPABILITIES["write_records"]))
                                  .order_by(User.name)).all()
    villages = db.session.scalars(select(Village).where(Village.school_id == current_user.school_id)
                                  .order_by(Village.name)).all()
    return render_template(
        "verify/review_queue.html", records=pg.items, total=pg.total, page=pg.page, pages=pg.pages,
        state=state, teacher_id=teacher_id, village_id=village_id, day=day, flagged=flagged, teachers=teachers,
        villages=villages, form=EmptyForm(),
        unremarkable=evidence.UNREMARKABLE_MAX_SCORE, explained=evidence.explained,
    )


def _back(default: str) -> str:
    """Where to go after an action: the page the form came from, if it is one of ours."""
    nxt = request.form.get("next", "")
    return nxt if nxt.startswith("/") and not nxt.startswith("//") else default


@bp.route("/review/approve", methods=["POST"])
@requires("review_records")
def review_bulk_approve():
    form = EmptyForm()
    back = _back(url_for("verify.review_queue"))
    if not form.validate_on_submit():
        flash(_("表单已过期，请重新提交。"), "error")
        return redirect(back)
    ids = [int(x) for x in request.form.getlist("ids") if x.isdigit()][:200]
    if not ids:
        flash(_("请先勾选要通过的记录。"), "warn")
        return redirect(back)
    records = db.session.scalars(records_query(current_user).where(
        Record.id.in_(ids), Record.kind.in_(evidence.EVIDENCE_KINDS))).all()
    done = 0
    for r in records:
        if r.review_state == "received":
            approve(r, current_user)
            done += 1
    db.session.commit()
    skipped = len(ids) - done
    flash(_("已通过 %(n)d 条记录。", n=done) + (_("另有 %(m)d 条不在待审核状态，未处理。", m=skipped) if skipped else ""), "ok")
    return redirect(back)


@bp.route("/review/<int:record_id>/<action>", methods=["POST"])
@requires("review_records")
def review_action(record_id, action):
    record = get_record(current_user, record_id)
    if action not in ("approve", "return") or record.kind not in evidence.EVIDENCE_KINDS:
        abort(404)
    back = _back(url_for("records.show", record_id=record.id))
    form = EmptyForm()
    if not form.validate_on_submit():
        flash(_("表单已过期，请重新提交。"), "error")
        return redirect(back)
    step = approve if action == "approve" else return_for_correction
    saved = save_or_flash(lambda: step(record, current_user, request.form.get("comment")),
                          _("已通过。") if action == "approve" else _("已退回，教师会在“退回给我”里看到。"), VerifyError)[0]
    return redirect(back if saved else url_for("records.show", record_id=record.id))


# --- teacher: returned to me ----------------------------------------------------------------------------------------

@bp.route("/records/returned")
@requires("write_records")
def returned():
    rows = db.session.scalars(_with_photos(records_query(current_user).where(
        Record.author_id == current_user.id, Record.review_state == "returned"))
        .order_by(Record.occurred_at.desc())).all()
    reasons = {}
    if rows:
        for ev in db.session.scalars(select(ReviewEvent).where(
                ReviewEvent.record_id.in_([r.id for r in rows]), ReviewEvent.action == "return")
                .order_by(ReviewEvent.at)):
            reasons[ev.record_id] = ev  # the latest return wins
    return render_template("verify/returned.html", records=rows, reasons=reasons)


# --- villages: where they are -----------------------------------------------------------------------------------

@bp.route("/villages/", methods=["GET", "POST"])
@requires("manage_villages")
def villages():
    rows = db.session.scalars(select(Village).where(Village.school_id == current_user.school_id)
                              .order_by(Village.name)).all()
    errors: dict[int, str] = {}
    form = EmptyForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            flash(_("表单已过期，请重新提交。"), "error")
            return redirect(url_for("verify.villages"))
        village = next((v for v in rows if v.id == request.form.get("village_id", type=int)), None)
        if village is None:
            abort(404)
        lat, lon, why = _parse_location(request.form.get("lat", ""), request.form.get("lon", ""))
        if why:
            errors[village.id] = why
        else:
            village.lat, village.lon = lat, lon
            n = _refresh_village(village)
            db.session.commit()
            flash(_("已保存%(v)s的位置，重新核对了 %(n)d 条记录。", v=village.name, n=n), "ok")
            return redirect(url_for("verify.villages"))
    return render_template("verify/villages.html", villages=rows, errors=errors, form=form,
                           values=request.form if errors else {}), 400 if errors else 200


def _parse_location(lat_s: str, lon_s: str):
    lat_s, lon_s = lat_s.strip(), lon_s.strip()
    if not lat_s and not lon_s:
        return None, None, None  # clearing the location
    try:
        lat, lon = float(lat_s), float(lon_s)
    except ValueError:
        return None, None, _("请填写数字形式的纬度和经度，例如 24.3312 和 109.4123。")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or lat != lat or lon != lon:
        return None, None, _("纬度应在 -90 到 90 之间，经度在 -180 到 180 之间。")
    return round(lat, 6), round(lon, 6), None


def _refresh_village(village: Village) -> int:
    """Recompute the flags of the village's evidence records (the distance rule depends on its location)."""
    records = db.session.scalars(select(Record).where(
        Record.school_id == village.school_id, Record.kind.in_(evidence.EVIDENCE_KINDS),
        Record.child_id.in_(select(Child.id).where(Child.village_id == village.id)))).all()
    evidence.refresh_all(records)
    return len(records)

