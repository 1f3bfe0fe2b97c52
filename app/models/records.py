"""Evidence records: home visits, talks, contacts with the family, counselling notes. Append-only."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db
from .base import UTCDateTime
from .people import Child, User

KINDS = ("home_visit", "talk", "contact", "counselling", "handover", "survey", "activity", "follow_up")
DUTY_KINDS = ("home_visit", "talk", "contact")  # the kinds that count as duties (and that the principal reviews)
RULE_KINDS = (*DUTY_KINDS, "handover", "activity")  # the kinds a duty rule may ask for (the duty tally keeps only DUTY_KINDS)
CONFIRMED_KINDS = ("home_visit", "handover")  # the kinds the village committee confirms (code, signature or queue)
CONFIDENTIAL_KINDS = ("counselling",)  # their content is for counsellors only (see app/access.py may_read_content)


class Record(db.Model):
    """One record made by a staff member about a child; never edited in place."""

    id: Mapped[int] = mapped_column(primary_key=True)
    # The id the phone made when the teacher started the record (UUID v4): the idempotency key.
    client_id: Mapped[str] = mapped_column(String(36), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    # Copied from the child so that school-wide scoping and aggregates need no join.
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    fields: Mapped[dict] = mapped_column(JSON, default=dict)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    # What the phone said about how it was saved (saved_at, online), for the evidence checks.
    client_meta: Mapped[dict | None] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(8), default="api")  # api | form
    # A correction names the record it corrects; the original stays as evidence.
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("record.id"))
    # Verification (step 4): the principal's review, the committee's confirmation, the evidence checks.
    review_state: Mapped[str] = mapped_column(String(12), default="received", server_default="received")
    confirm_state: Mapped[str] = mapped_column(String(12), default="none", server_default="none")
    flags: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")  # [{"code", "detail"[, "records"]}], see app/verify/evidence.py
    score: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # higher = more suspicious
    # A child's attendance at a group activity (kind "activity", app/models/activities.py) names the activity.
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activity.id"), index=True)

    child: Mapped[Child] = relationship()
    author: Mapped[User] = relationship()
    photos: Mapped[list[RecordPhoto]] = relationship(back_populates="record", order_by="RecordPhoto.position", cascade="all, delete-orphan")

    __table_args__ = (
        # A child's records of a kind in a period; covering (review_state): the duty tally's per-child latest times and the
        # city's rare per-child EXISTS read no table row.
        Index("ix_record_child_kind_at_state", "child_id", "kind", "occurred_at", "review_state"),
        # A school's counts by kind and period (dashboard, trend, duties): covering, so no table row is read.
        Index("ix_record_school_kind_at_cover", "school_id", "kind", "occurred_at", "review_state", "child_id"),
        Index("ix_record_author_at", "author_id", "occurred_at"),
        Index("ix_record_school_review", "school_id", "review_state", "score"),
    )


class RecordPhoto(db.Model):
    """A photo listed by a record, in the order the teacher took them."""

    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"), primary_key=True)
    photo_id: Mapped[int] = mapped_column(ForeignKey("photo.id"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    record: Mapped[Record] = relationship(back_populates="photos")
    photo: Mapped["Photo"] = relationship()  # noqa: F821


class Photo(db.Model):
    """A photo one user uploaded: evidence metadata kept before the served copy was stripped."""

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    uploader_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"))
    kind: Mapped[str] = mapped_column(String(16), default="photo")  # photo | signature
    mime: Mapped[str] = mapped_column(String(16))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    orig_width: Mapped[int] = mapped_column(Integer)
    orig_height: Mapped[int] = mapped_column(Integer)
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # EXIF times carry no zone; phones here are on China time, so they are read as Asia/Shanghai.
    gps_lat: Mapped[float | None] = mapped_column(Float)
    gps_lon: Mapped[float | None] = mapped_column(Float)
    camera_make: Mapped[str | None] = mapped_column(String(64))
    camera_model: Mapped[str | None] = mapped_column(String(64))
    # 64-bit dHash stored signed (BIGINT has no unsigned type on PostgreSQL).
    phash: Mapped[int] = mapped_column(db.BigInteger)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    uploader: Mapped[User] = relationship()
    __table_args__ = (
        db.UniqueConstraint("sha256", "uploader_id"),
        Index("ix_photo_school_phash", "school_id", "phash"),
    )


REVIEW_STATES = ("received", "approved", "returned", "corrected")
CONFIRM_STATES = ("none", "signed", "confirmed", "disputed")


class ReviewEvent(db.Model):
    """One step of a record's review: approved, returned with a comment, corrected by its author."""

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"), index=True)
    by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    action: Mapped[str] = mapped_column(String(12))  # approve | return | correct
    comment: Mapped[str | None] = mapped_column(String(1000))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    by: Mapped[User] = relationship()


class Confirmation(db.Model):
    """A village committee member vouching for (or disputing) a home visit, and how."""

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"), index=True)
    # The member: who pressed the button, whose code matched, or (signature) unknown.
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    method: Mapped[str] = mapped_column(String(12))  # queue | code | signature
    outcome: Mapped[str] = mapped_column(String(12))  # confirmed | disputed | signed | invalid | replayed | locked
    comment: Mapped[str | None] = mapped_column(String(1000))
    # For codes: the TOTP time step that matched (replay detection), or the code as typed when none matched.
    code_step: Mapped[int | None] = mapped_column(db.BigInteger)
    # For signatures: the PNG drawn on the teacher's screen (a Photo of kind "signature").
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("photo.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    by: Mapped[User | None] = relationship()
    photo: Mapped["Photo | None"] = relationship()  # noqa: F821
    __table_args__ = (Index("ix_confirmation_member_step", "by_id", "code_step"),)


# Outside the classes so the upload quota's indexes stay apart from other changes to these tables.
# Today's uploads per user (the daily quota), and "is this photo a signature kept by a confirmation" (unlinked).
Index("ix_photo_uploader_uploaded", Photo.uploader_id, Photo.uploaded_at)
Index("ix_confirmation_photo", Confirmation.photo_id)


class CodeAttempt(db.Model):
    """Committee codes one teacher typed for one village on one day (China time): bounds guessing the 6 digits.

    `tries` is raised before a code is checked and lowered again when the code matched, so it counts wrong codes (plus
    checks still running); one row per (author, village, day) lets concurrent requests count under one row lock."""

    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"), primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    tries: Mapped[int] = mapped_column(Integer, default=0)
