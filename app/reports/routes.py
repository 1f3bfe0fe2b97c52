"""Report pages and downloads. Every query starts in app.access; every export is audited (ids only) and served as an
attachment with Cache-Control: no-store."""
from __future__ import annotations

from flask import abort, make_response, render_template, request
from flask_login import current_user
from sqlalchemy import select

from ..access import children_query, get_child, may_see_history, requires, term_record_teacher
from ..audit import audit
from ..clock import today_local
from ..duties.services import PERIOD_LABELS
from ..extensions import db
from ..followups.services import STATUS_LABELS
from ..models import Child, User, Village
from ..records.kinds import KINDS
from . import bp
from ..verify.services import histories
from ..web import arg_id
from ..children.history import history_rows
from .archive import archive_records
from .monthly import monthly_report, parse_month
from .roster import roster_xlsx
from .sheets import monthly_columns, monthly_xlsx, term_xlsx
from .term import choose_term, school_teachers, term_record
from .term_stats import headers as stats_headers
from .term_stats import term_stats as term_stats_for
from .term_stats import term_stats_xlsx
from .xlsx import attachment, no_store
from ..children.ordering import class_key



@bp.route("/roster.xlsx")
@requires("read_children")
def roster():
    q = children_query(current_user)
    class_name = (request.args.get("class") or "").strip()[:32]
    village_id = arg_id("village")
    if class_name:
        q = q.where(Child.class_name == class_name)
    if village_id:
        q = q.where(Child.village_id == village_id)
    if request.args.get("left") != "1":
        q = q.where(Child.left_on.is_(None))
    data, n = roster_xlsx(q, current_user.school_id)
    scope = current_user.village_id if current_user.role == "committee" else current_user.school_id
    what = f"{current_user.role}:{scope};village={village_id or ''};class={class_name};rows={n}"
    audit("export", "roster", what[:80], commit=True)
    return attachment(data, f"roster-{current_user.school_id}-{today_local().isoformat()}.xlsx")


@bp.route("/roster")
@requires("read_children")
def roster_page():
    """The roster's filters (classes and villages within the reader's scope) and the download button."""
    scope = children_query(current_user).where(Child.left_on.is_(None)).subquery()
    classes = sorted(db.session.scalars(select(scope.c.class_name).distinct().where(scope.c.class_name.is_not(None))),
                     key=class_key)
    villages = db.session.execute(select(Village.id, Village.name).where(Village.id.in_(select(scope.c.village_id)))
                                  .order_by(Village.name)).all()
    return render_template("reports/roster.html", classes=classes, villages=villages)


def _month():
    month = parse_month(request.args.get("month"))
    if month is None:
        abort(400)
    return month


@bp.route("/monthly")
@requires("read_monthly")
def monthly():
    month = _month()
    report = monthly_report(current_user.school_id, month)
    audit("view", "monthly_report", f"{current_user.school_id}:{month:%Y-%m}", commit=True)
    return no_store(make_response(render_template(
        "reports/monthly.html", report=report, month=month, columns=monthly_columns(report),
        school=current_user.school, KINDS=KINDS, PERIOD_LABELS=PERIOD_LABELS)))


@bp.route("/monthly.xlsx")
@requires("read_monthly")
def monthly_export():
    month = _month()
    data = monthly_xlsx(monthly_report(current_user.school_id, month), current_user.school.name)
    audit("export", "monthly_report", f"{current_user.school_id}:{month:%Y-%m}", commit=True)
    return attachment(data, f"monthly-report-{current_user.school_id}-{month:%Y-%m}.xlsx")


@bp.route("/children/<id:child_id>/archive")
@requires("read_children")
def archive(child_id):
    child = get_child(current_user, child_id)
    records = archive_records(current_user, child)
    audit("export", "child_archive", child.id, commit=True)
    return no_store(make_response(render_template(
        "reports/archive.html", child=child, records=records, histories=histories(records),
        file_history=history_rows(child, current_user),
        sees_comments={r.id: may_see_history(current_user, r) for r in records},
        made_at=today_local())))


def _term(teacher: User):
    which = request.args.get("term", "current")
    term = choose_term(teacher.school_id, "previous" if which == "previous" else "current", today_local())
    if term is None:
        abort(404)
    return which, term


@bp.route("/term-record")
@requires("read_term_records")
def term_page():
    teacher = term_record_teacher(current_user, arg_id("teacher"))
    if teacher is None:
        return render_template("reports/term_choose.html", teachers=school_teachers(current_user.school_id))
    which, term = _term(teacher)
    rec = term_record(current_user, teacher, term, today_local())
    audit("view", "term_record", teacher.id, commit=True)
    return no_store(make_response(render_template("reports/term.html", rec=rec, which=which, KINDS=KINDS,
                                                  PERIOD_LABELS=PERIOD_LABELS, FOLLOW_UP_STATUS=STATUS_LABELS)))


@bp.route("/term-record.xlsx")
@requires("read_term_records")
def term_export():
    teacher = term_record_teacher(current_user, arg_id("teacher"))
    if teacher is None:
        abort(404)
    _which, term = _term(teacher)
    data = term_xlsx(term_record(current_user, teacher, term, today_local()))
    audit("export", "term_record", teacher.id, commit=True)
    return attachment(data, f"term-record-{teacher.id}-{term[1].start.isoformat()}.xlsx")


@bp.route("/term-stats")
@requires("read_term_stats")
def term_stats():
    which, (name, term) = _school_term()
    stats = term_stats_for(current_user.school_id, term, today_local())
    audit("view", "term_stats", current_user.school_id, commit=True)
    return no_store(make_response(render_template("reports/term_stats.html", stats=stats, headers=stats_headers(),
                                                  which=which, term_name=name, term=term, school=current_user.school)))


@bp.route("/term-stats.xlsx")
@requires("read_term_stats")
def term_stats_export():
    _which, (name, term) = _school_term()
    data = term_stats_xlsx(term_stats_for(current_user.school_id, term, today_local()), current_user.school.name, name)
    audit("export", "term_stats", current_user.school_id, commit=True)
    return attachment(data, f"term-stats-{current_user.school_id}-{term.start.isoformat()}.xlsx")


def _school_term():
    """The school's current term (?term=current) or the previous one; 404 when the calendar has none."""
    which = "previous" if request.args.get("term") == "previous" else "current"
    term = choose_term(current_user.school_id, which, today_local())
    if term is None:
        abort(404)
    return which, term
