"""The principal's review (queue, bulk approval, approve or return one record) and the author's "returned to me".

Every query starts from app.access (records_query): a principal sees their school, a teacher their own records.
Unknown ids answer 404.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..access import CAPABILITIES, get_record, records_query, requires
from ..clock import CHINA, today_local
from ..extensions import db
from ..models import REVIEW_STATES, Child, Record, User, Village
from ..web import EmptyForm, arg_id, paginate, save_or_flash
from . import bp, evidence
from .pages import PAGE_SIZE, with_photos
from .returns import deadline_of, latest_returns, returned_rows
from .services import VerifyError, approve, return_for_correction


def _review_filters():
    """The queue's filters from the query string, each checked against what the principal may pick."""
    state = request.args.get("state", "received")
    if state not in REVIEW_STATES + ("all",):
        state = "received"
    teacher_id = arg_id("teacher")
    village_id = arg_id("village")
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
    pg = paginate(with_photos(q).order_by(Record.score.desc(), Record.occurred_at.desc(), Record.id.desc()), PAGE_SIZE,
                  count=True)
    teachers = db.session.scalars(select(User).where(User.school_id == current_user.school_id,
                                                     User.role.in_(CAPABILITIES["write_records"]))
                                  .order_by(User.name)).all()
    villages = db.session.scalars(select(Village).where(Village.school_id == current_user.school_id)
                                  .order_by(Village.name)).all()
    events = latest_returns([r.id for r in pg.items if r.review_state == "returned"])
    return render_template(
        "verify/review_queue.html", records=pg.items, today=today_local(),
        deadlines={rid: deadline_of(ev.at) for rid, ev in events.items()}, total=pg.total, page=pg.page, pages=pg.pages,
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


@bp.route("/review/<id:record_id>/<action>", methods=["POST"])
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
    # A missing reason is shown next to the comment box the principal typed in: the queue's or the record page's.
    own_page = url_for("records.show", record_id=record.id)
    page, field = (own_page, "review-comment") if back.split("#")[0] == own_page else (back.split("#")[0], f"rc-{record.id}")
    saved = save_or_flash(lambda: step(record, current_user, request.form.get("comment")),
                          _("已通过。") if action == "approve" else _("已退回，教师会在“退回给我”里看到。"), VerifyError,
                          field)[0]
    return redirect(back if saved else f"{page}#{field}")


# --- the author: returned to me --------------------------------------------------------------------------------------

@bp.route("/records/returned")
@requires("write_records")
def returned():
    return render_template("verify/returned.html", rows=returned_rows(current_user), today=today_local())
