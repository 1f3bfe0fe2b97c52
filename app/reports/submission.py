"""The monthly report sent upward (每月按时报送至区教育局): the principal adds news items (信息每月不少于2条) and submits;
the report's aggregates are frozen at that moment; the county bureau marks it received or returns it with a comment.

States: draft -> submitted -> received | returned -> resubmitted -> received | returned ...
A report first submitted after DEADLINE_DAY of the following month is late; one not submitted by then is missing.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from types import SimpleNamespace

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..audit import audit
from ..clock import CHINA, as_utc, utcnow
from ..duties.services import Window
from ..extensions import db
from ..models import MonthlySubmission, NewsItem, Photo, School, User
from ..notify.services import bureau_ids, notify, principal_ids
from .monthly import monthly_report
from .periods import month_window

DEADLINE_DAY = 5  # the report for a month is due by the end of the 5th of the following month (China time)
MIN_NEWS = 2  # 信息每月不少于2条
MAX_PHOTOS = 6  # per news item
SENT = ("submitted", "resubmitted")  # waiting for the bureau
EDITABLE = ("draft", "returned")
STATUS_LABELS = {"not_due": _l("未到期"), "missing": _l("未报送"), "draft": _l("草稿"), "submitted": _l("已报送"),
                 "resubmitted": _l("已重新报送"), "received": _l("已接收"), "returned": _l("已退回")}


class SubmissionError(ValueError):
    """What the user did wrong, in their language: `field` names the input."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def next_month(month: date) -> date:
    return month_window(month).end + timedelta(days=1)


def deadline(month: date) -> datetime:
    """The moment the report for `month` becomes late: the end of DEADLINE_DAY of the following month, China time."""
    return datetime.combine(next_month(month) + timedelta(days=DEADLINE_DAY), time(0), CHINA)


def is_late(sub: MonthlySubmission) -> bool:
    """First submitted after the deadline (a return and resubmission does not make a report late)."""
    return sub.first_submitted_at is not None and as_utc(sub.first_submitted_at) > deadline(sub.month)


def find(school_id: int, month: date) -> MonthlySubmission | None:
    return db.session.scalar(select(MonthlySubmission).where(MonthlySubmission.school_id == school_id,
                                                             MonthlySubmission.month == month))


def draft_for(school_id: int, month: date) -> MonthlySubmission:
    """The school's report for `month`, made as an empty draft on first use."""
    sub = find(school_id, month)
    if sub is None:
        sub = MonthlySubmission(school_id=school_id, month=month, state="draft")
        db.session.add(sub)
        db.session.flush()
    return sub


def _editable(sub: MonthlySubmission) -> None:
    if sub.state not in EDITABLE:
        raise SubmissionError("form", _("月报已报送，不能再修改；如需修改，请等教育局退回。"))


def add_news(sub: MonthlySubmission, user: User, title: str | None, body: str | None, photos: list[Photo]) -> NewsItem:
    """Add a news item with the photos the principal chose (already checked as theirs to show)."""
    _editable(sub)
    title, body = (title or "").strip(), (body or "").strip()
    if not title:
        raise SubmissionError("title", _("请填写信息标题。"))
    if len(title) > 100:
        raise SubmissionError("title", _("标题最多 100 个字。"))
    if not body:
        raise SubmissionError("body", _("请填写信息内容。"))
    if len(body) > 4000:
        raise SubmissionError("body", _("内容最多 4000 个字。"))
    unique = list({p.id: p for p in photos}.values())
    if len(unique) > MAX_PHOTOS:
        raise SubmissionError("photos", _("每条信息最多 %(n)d 张照片。", n=MAX_PHOTOS))
    item = NewsItem(title=title, body=body, photos=unique)
    sub.news.append(item)
    db.session.flush()
    audit("add_news", "monthly_submission", sub.id, user=user)
    return item


def delete_news(sub: MonthlySubmission, user: User, item_id: int) -> None:
    _editable(sub)
    item = db.session.scalar(select(NewsItem).where(NewsItem.id == item_id, NewsItem.submission_id == sub.id))
    if item is None:
        raise SubmissionError("form", _("找不到这条信息。"))
    sub.news.remove(item)
    db.session.flush()
    audit("delete_news", "monthly_submission", sub.id, user=user)


def snapshot(school_id: int, month: date) -> dict:
    """The month's aggregates as JSON, as the bureau will see them: classes and counts, never a child's name or id
    (the emergencies are numbered within the report, not by their ids)."""
    r = monthly_report(school_id, month)
    incidents = [{k: v for k, v in i.items() if k != "id"} | {"no": n, "occurred_at": i["occurred_at"].isoformat()}
                 for n, i in enumerate(r["incidents"], 1)]
    return {"month": r["month"].as_json(), "made_at": r["made_at"].isoformat(),
            "rules": [{"key": x.key, "title": x.title, "period": x.period, "times": x.times} for x in r["rules"]],
            "judged": {k: [w.as_json() for w in ws] for k, ws in r["judged"].items()},
            "rows": r["rows"], "total": r["total"], "incidents": incidents}


def frozen_report(sub: MonthlySubmission) -> dict | None:
    """The submitted snapshot in the shape of monthly_report (for the same page and columns); None for a draft."""
    s = sub.snapshot
    if not s:
        return None

    def window(w):
        return Window(date.fromisoformat(w["start"]), date.fromisoformat(w["end"]))

    return {"month": window(s["month"]), "made_at": datetime.fromisoformat(s["made_at"]),
            "rules": [SimpleNamespace(**x) for x in s["rules"]],
            "judged": {k: [window(w) for w in ws] for k, ws in s["judged"].items()},
            "rows": s["rows"], "total": s["total"],
            "incidents": [i | {"id": i["no"], "occurred_at": datetime.fromisoformat(i["occurred_at"])} for i in s["incidents"]]}


def submit(sub: MonthlySubmission, user: User, now: datetime | None = None) -> None:
    """Freeze the month's aggregates and send the report to the county bureau (which is told)."""
    now = now or utcnow()
    _editable(sub)
    if now < datetime.combine(next_month(sub.month), time(0), CHINA):
        raise SubmissionError("form", _("这个月还没有结束，月末以后才能报送。"))
    if len(sub.news) < MIN_NEWS:
        raise SubmissionError("news", _("每月至少报送 %(n)d 条信息，现在只有 %(have)d 条。", n=MIN_NEWS, have=len(sub.news)))
    again = sub.state == "returned"
    sub.snapshot = snapshot(sub.school_id, sub.month)
    sub.state = "resubmitted" if again else "submitted"
    sub.submitted_at, sub.submitted_by_id = now, user.id
    sub.first_submitted_at = sub.first_submitted_at or now
    audit("resubmit" if again else "submit", "monthly_submission", sub.id, user=user)
    school = db.session.get(School, sub.school_id)
    text = _("%(school)s 报送了 %(month)s 的月报。", school=school.name, month=f"{sub.month:%Y-%m}")
    for u in bureau_ids(school.county_id, "receive_monthly"):
        notify(u, f"monthly:{sub.id}:sent:{now.timestamp():.0f}", "monthly_report", text, f"/bureau/reports/{sub.id}")


def decide(sub: MonthlySubmission, user: User, received: bool, comment: str | None, now: datetime | None = None) -> None:
    """The bureau marks a sent report received, or returns it with a comment; the school's principals are told."""
    now = now or utcnow()
    if sub.state not in SENT:
        raise SubmissionError("form", _("这份月报现在不能接收或退回。"))
    comment = (comment or "").strip()
    if not received and not comment:
        raise SubmissionError("comment", _("退回时请写明需要修改的地方。"))
    sub.state = "received" if received else "returned"
    sub.comment = None if received else comment[:2000]
    sub.decided_at, sub.decided_by_id = now, user.id
    audit("receive" if received else "return", "monthly_submission", sub.id, user=user)
    month = f"{sub.month:%Y-%m}"
    text = (_("教育局已接收 %(month)s 的月报。", month=month) if received
            else _("教育局退回了 %(month)s 的月报，请查看意见后修改并重新报送。", month=month))
    for u in principal_ids(sub.school_id):
        notify(u, f"monthly:{sub.id}:{sub.state}:{now.timestamp():.0f}", "monthly_report", text,
               f"/reports/submission?month={month}")


def status(sub: MonthlySubmission | None, month: date, now: datetime | None = None) -> dict:
    """What the bureau's table shows for one school and month: a status key and whether it was late."""
    now = now or utcnow()
    if sub is None or sub.state == "draft":
        key = "missing" if now >= deadline(month) else "not_due"
        return {"key": key, "late": key == "missing", "submission": None}
    return {"key": sub.state, "late": is_late(sub), "submission": sub}


def county_table(user: User, months: list[date], now: datetime | None = None) -> list[dict]:
    """For each school of the bureau's county, the status of each month's report (one query for all of them)."""
    from ..access import schools_query

    schools = db.session.scalars(schools_query(user).order_by(School.name)).all()
    subs = {(s.school_id, s.month): s for s in db.session.scalars(select(MonthlySubmission).where(
        MonthlySubmission.school_id.in_([s.id for s in schools]), MonthlySubmission.month.in_(months)))}
    return [{"school": school, "months": [status(subs.get((school.id, m)), m, now) for m in months]}
            for school in schools]


def recent_months(today: date, n: int = 3) -> list[date]:
    """The last `n` complete months, the latest first."""
    out, m = [], today.replace(day=1)
    for _i in range(n):
        m = (m - timedelta(days=1)).replace(day=1)
        out.append(m)
    return out
