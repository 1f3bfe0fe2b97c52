"""The bureau's appraisals (年度综合目标考核, once a school year) and special inspections (专项督查, about a month into
each term) of its schools: periods, labels, the checks of a review, and recording one (audited; principals told)."""
from __future__ import annotations

import re
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..audit import audit
from ..clock import utcnow
from ..extensions import db
from ..models import REVIEW_OUTCOMES, School, SchoolReview, User
from ..notify.services import notify, school_ids

MAX_FINDINGS = 2000
OUTCOME_LABELS = {"excellent": _l("优秀"), "good": _l("良好"), "pass": _l("合格"), "fail": _l("不合格"),
                  "met": _l("达标"), "rectify": _l("需整改")}
KIND_LABELS = {"appraisal": _l("年度考核"), "inspection": _l("专项督查")}
PERIOD_FORMS = {"appraisal": re.compile(r"(\d{4})-(\d{4})"), "inspection": re.compile(r"(\d{4})-(\d{4})-([12])")}


class ReviewError(ValueError):
    """A review that cannot be recorded: the form field at fault and a message for the bureau."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def school_year(day: date) -> str:
    """The school year containing `day` ("2026-2027" from August 2026 to July 2027)."""
    first = day.year if day.month >= 8 else day.year - 1
    return f"{first}-{first + 1}"


def term_period(day: date) -> str:
    """The term containing `day`, county-wide: "2026-2027-1" (autumn, August to January) or "-2" (spring)."""
    return f"{school_year(day)}-{1 if day.month >= 8 or day.month == 1 else 2}"


def current_periods(day: date) -> dict[str, str]:
    """The period each kind of review is recorded for today."""
    return {"appraisal": school_year(day), "inspection": term_period(day)}


def period_label(kind: str, period: str) -> str:
    """A period in words: "2026-2027 学年" or "2026-2027 学年第一学期"."""
    m = PERIOD_FORMS[kind].fullmatch(period)
    if m is None:
        return period
    year = f"{m[1]}-{m[2]}"
    if kind == "appraisal":
        return _("%(year)s 学年", year=year)
    return _("%(year)s 学年第一学期", year=year) if m[3] == "1" else _("%(year)s 学年第二学期", year=year)


def outcome_label(code: str) -> str:
    return str(OUTCOME_LABELS.get(code, code))


def _checked(kind: str, period: str, outcome: str, findings: str, rectify_by: str) -> tuple[str, date | None]:
    """The findings and rectify-by date of a valid review; ReviewError (in Chinese by default) otherwise."""
    if kind not in REVIEW_OUTCOMES:
        raise ReviewError("kind", _("没有这种考核。"))
    m = PERIOD_FORMS[kind].fullmatch(period)
    if m is None or int(m[2]) != int(m[1]) + 1:
        raise ReviewError("period", _("学年或学期不对。"))
    if outcome not in REVIEW_OUTCOMES[kind]:
        raise ReviewError("outcome", _("请选择考核等级。") if kind == "appraisal" else _("请选择督查结果。"))
    findings = findings.strip()
    if len(findings) > MAX_FINDINGS:
        raise ReviewError("findings", _("意见最多 %(n)d 个字，现在有 %(have)d 个字。", n=MAX_FINDINGS, have=len(findings)))
    rectify_by = rectify_by.strip()
    if not rectify_by:
        return findings, None
    if outcome != "rectify":
        raise ReviewError("rectify_by", _("只有“需整改”才填写整改期限。"))
    try:
        day = date.fromisoformat(rectify_by) if len(rectify_by) == 10 else None
    except ValueError:
        day = None
    if day is None:
        raise ReviewError("rectify_by", _("整改期限不是有效的日期（格式：2026-12-31）。"))
    return findings, day


def record_review(school: School, user: User, form: dict) -> SchoolReview:
    """Record (or correct) the school's review of a kind and period; audited by id, the principals told."""
    kind, period = (form.get("kind") or "").strip(), (form.get("period") or "").strip()
    outcome = (form.get("outcome") or "").strip()
    findings, rectify_by = _checked(kind, period, outcome, form.get("findings") or "", form.get("rectify_by") or "")
    review = db.session.scalar(select(SchoolReview).where(SchoolReview.school_id == school.id,
                                                          SchoolReview.kind == kind, SchoolReview.period == period))
    now = utcnow()
    if review is None:
        review = SchoolReview(school_id=school.id, county_id=school.county_id, kind=kind, period=period, created_at=now)
        db.session.add(review)
    edited = review.id is not None
    review.outcome, review.findings, review.rectify_by = outcome, findings, rectify_by
    review.author_id, review.updated_at = user.id, now
    db.session.flush()
    audit("edit" if edited else "create", "school_review", review.id, user=user)
    what = _("%(kind)s（%(period)s）", kind=KIND_LABELS[kind], period=period_label(kind, period))
    if rectify_by is not None:
        text = _("教育局记录了本校的%(what)s：需整改，请在 %(day)s 前完成整改。", what=what, day=rectify_by.isoformat())
    else:
        text = _("教育局记录了本校的%(what)s：%(outcome)s。", what=what, outcome=outcome_label(outcome))
    for uid in school_ids(school.id, "read_reviews"):  # who may read it at /reports/reviews
        notify(uid, f"review:{review.id}:{now.timestamp():.0f}", "school_review", text, "/reports/reviews")
    return review


def reviews_by_school(school_ids: list[int], periods: dict[str, str]) -> dict[tuple[int, str], SchoolReview]:
    """{(school, kind): review} of the given periods, in one query."""
    rows = db.session.scalars(select(SchoolReview).where(
        SchoolReview.school_id.in_(school_ids),
        ((SchoolReview.kind == "appraisal") & (SchoolReview.period == periods["appraisal"]))
        | ((SchoolReview.kind == "inspection") & (SchoolReview.period == periods["inspection"]))))
    return {(r.school_id, r.kind): r for r in rows}
