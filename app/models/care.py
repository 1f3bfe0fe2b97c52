"""Care beyond the duties: the children's categories (分类, with a designated contact person) and each child's plan
(一人一策), kept as versions."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db
from .base import UTCDateTime
from .people import N_, User

# The policies' categories (000: 单亲家庭或孤残儿童…落实专人联系, 问题儿童; 004: 贫困型、老龄型、文盲型家庭):
# key -> the Chinese word. A school's own categories are CareCategory rows, keyed "c<id>".
BUILTIN_CATEGORIES = {
    "single_parent": N_("单亲家庭"), "orphan": N_("孤儿"), "disabled": N_("残疾"),
    "elderly_guardian": N_("隔代/高龄监护"), "illiterate_guardian": N_("监护人文盲"), "poor": N_("家庭困难"),
    "behaviour": N_("行为偏差"),
}


class CareCategory(db.Model):
    """A category a school added to the policy's own (BUILTIN_CATEGORIES); switched off rather than deleted."""
    __tablename__ = "care_category"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    name: Mapped[str] = mapped_column(String(30))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (UniqueConstraint("school_id", "name"),)

    @property
    def key(self) -> str:
        return f"c{self.id}"


class ChildCategory(db.Model):
    """A child belongs to a category, with the staff member named to keep in closer contact (专人联系)."""
    __tablename__ = "child_category"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id", ondelete="CASCADE"))
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    category: Mapped[str] = mapped_column(String(24))  # a BUILTIN_CATEGORIES key or "c<CareCategory.id>"
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    contact: Mapped[User | None] = relationship(foreign_keys=[contact_id])

    # The duty services select a school's children by category (rules for one category only).
    __table_args__ = (UniqueConstraint("child_id", "category"),
                      Index("ix_child_category_school_category", "school_id", "category"))


class CarePlan(db.Model):
    """One version of a child's plan (一人一策): goals, measures and when to review it. A change adds a version, so
    the latest is the plan and the others are its history."""
    __tablename__ = "care_plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id", ondelete="CASCADE"))
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    goals: Mapped[str] = mapped_column(Text)
    measures: Mapped[str] = mapped_column(Text)
    review_on: Mapped[date | None] = mapped_column(Date)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User | None] = relationship()
    __table_args__ = (Index("ix_care_plan_child_at", "child_id", "at"),)
