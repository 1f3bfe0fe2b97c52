"""The monthly report as sent upward: a school's submission for a month, frozen when submitted, and its news items."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db
from .base import UTCDateTime
from .people import School, User
from .records import Photo

# draft -> submitted -> received | returned -> resubmitted -> received | returned ...
SUBMISSION_STATES = ("draft", "submitted", "returned", "resubmitted", "received")


class MonthlySubmission(db.Model):
    """One school's monthly report for one month, as the principal prepares and submits it to the county bureau."""

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    month: Mapped[date] = mapped_column(Date)  # the first day of the month
    state: Mapped[str] = mapped_column(String(12), default="draft")
    # The aggregates of the monthly report as they stood when submitted (no child's name or id): later edits of
    # records do not change what the bureau received.
    snapshot: Mapped[dict | None] = mapped_column(JSON)
    first_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # judged against the deadline
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    comment: Mapped[str | None] = mapped_column(Text)  # the bureau's, when it returns the report
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    school: Mapped[School] = relationship()
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    news: Mapped[list[NewsItem]] = relationship(back_populates="submission", order_by="NewsItem.id",
                                                cascade="all, delete-orphan")
    __table_args__ = (UniqueConstraint("school_id", "month"),)


class NewsItem(db.Model):
    """An item of news in a monthly report (信息每月不少于2条): a title, a text and photos the principal chose."""

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("monthly_submission.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    submission: Mapped[MonthlySubmission] = relationship(back_populates="news")
    photos: Mapped[list[Photo]] = relationship(secondary="news_photo", order_by="Photo.id")


class NewsPhoto(db.Model):
    """A photo shown with a news item."""

    news_item_id: Mapped[int] = mapped_column(ForeignKey("news_item.id", ondelete="CASCADE"), primary_key=True)
    photo_id: Mapped[int] = mapped_column(ForeignKey("photo.id"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


REVIEW_KINDS = ("appraisal", "inspection")  # 年度综合目标考核 (per school year), 专项督查 (per term)
REVIEW_OUTCOMES = {"appraisal": ("excellent", "good", "pass", "fail"), "inspection": ("met", "rectify")}


class SchoolReview(db.Model):
    """The county bureau's appraisal of a school for a school year, or its special inspection of a term: the outcome
    (a grade, or met / to rectify), findings about the school's work (never about a child) and a rectify-by date."""

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    county_id: Mapped[int] = mapped_column(ForeignKey("county.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    period: Mapped[str] = mapped_column(String(16))  # "2026-2027" (a school year) or "2026-2027-1" (its first term)
    outcome: Mapped[str] = mapped_column(String(12))  # REVIEW_OUTCOMES[kind]: the appraisal's grade, the inspection's result
    findings: Mapped[str] = mapped_column(Text, default="")
    rectify_by: Mapped[date | None] = mapped_column(Date)  # only for an inspection's "rectify"
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    school: Mapped[School] = relationship()
    author: Mapped[User] = relationship()
    __table_args__ = (UniqueConstraint("school_id", "kind", "period"),)
