"""Schools, villages, staff accounts, children, their guardians, pairings and consent."""
from __future__ import annotations

from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..clock import utcnow
from ..extensions import db
from .base import UTCDateTime


def N_(word: str) -> str:
    """Marks a word for translation where it is defined; pages translate it (_l), roster files keep the Chinese."""
    return word


ROLES = ("teacher", "committee", "principal", "counsellor", "admin", "bureau", "bureau_admin")
# The county's education bureau: its staff see aggregates of the county's schools (bureau), its administrator onboards
# schools and their principals and admins (bureau_admin). Their accounts belong to a county, not a school.
COUNTY_ROLES = ("bureau", "bureau_admin")
# The file's vocabularies: code -> the Chinese word (the roster's spelling, and the msgid pages translate).
SEXES = {"male": N_("男"), "female": N_("女")}
GUARDIAN_ROLES = ("father", "mother", "guardian")
PARENTS_AWAY = {"both": N_("父母均外出"), "father": N_("父亲外出"), "mother": N_("母亲外出"), "none": N_("均未外出")}
# Why a child's file was closed (控辍保学 counts the dropouts).
LEAVE_REASONS = {"transferred": N_("转学"), "dropped_out": N_("辍学"), "parents_returned": N_("父母返乡"),
                 "graduated": N_("毕业"), "other": N_("其他")}
# Where a change to a file came from (its history).
FILE_CHANGE_SOURCES = ("edit", "survey", "import", "leave")


class County(db.Model):
    """A county or district (区/县) and its education bureau, above its schools."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    bureau_name: Mapped[str | None] = mapped_column(String(120))
    # The bureau's duty phone for emergencies (the 2-hour notice).
    bureau_phone: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    schools: Mapped[list[School]] = relationship(back_populates="county", order_by="School.name")


class School(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    county_id: Mapped[int] = mapped_column(ForeignKey("county.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    hotline: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    county: Mapped[County] = relationship(back_populates="schools")
    villages: Mapped[list[Village]] = relationship(back_populates="school", order_by="Village.name")


class Village(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    # Where the village is, for checking photo GPS against it (step 4).
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)

    school: Mapped[School] = relationship(back_populates="villages")
    __table_args__ = (UniqueConstraint("school_id", "name"),)


def hash_password(password: str) -> str:
    """A salted hash of a password, made the way passwords are stored."""
    from flask import current_app, has_app_context

    # Tests lower the cost (PASSWORD_HASH_METHOD); deployments keep werkzeug's default (scrypt).
    method = current_app.config.get("PASSWORD_HASH_METHOD") if has_app_context() else None
    return generate_password_hash(password, **({"method": method} if method else {}))


class User(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"), index=True)
    # Bureau staff belong to a county instead of a school (COUNTY_ROLES).
    county_id: Mapped[int | None] = mapped_column(ForeignKey("county.id"), index=True)
    # Set by a password reset (a one-time password): the user must choose a new one at the next login.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # A committee member belongs to one village.
    village_id: Mapped[int | None] = mapped_column(ForeignKey("village.id"))
    phone: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Signed cookies cannot be revoked: each session carries this number from login, and logging out, a new
    # password or "log out my other phones" raises it, which ends every copy of every earlier session.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Committee members: the RFC 6238 secret (base32) behind the code their phone shows offline.
    totp_secret: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    school: Mapped[School | None] = relationship()
    county: Mapped[County | None] = relationship()
    village: Mapped[Village | None] = relationship()

    def set_password(self, password: str) -> None:
        """Store a salted hash of the password."""
        self.password_hash = hash_password(password)

    def check_password(self, password: str) -> bool:
        """True when the password matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return bool(self.active)


class Child(db.Model):
    """One left-behind child's file (一人一档)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    village_id: Mapped[int | None] = mapped_column(ForeignKey("village.id"), index=True)
    student_no: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    sex: Mapped[str] = mapped_column(String(8))
    birth_date: Mapped[date | None] = mapped_column(Date)
    grade: Mapped[str | None] = mapped_column(String(16))
    class_name: Mapped[str | None] = mapped_column(String(32), index=True)
    boarding: Mapped[bool] = mapped_column(Boolean, default=False)
    address: Mapped[str | None] = mapped_column(String(200))
    parents_away: Mapped[str] = mapped_column(String(8), default="both")
    personality: Mapped[str | None] = mapped_column(Text)
    interests: Mapped[str | None] = mapped_column(Text)
    health: Mapped[str | None] = mapped_column(Text)
    study: Mapped[str | None] = mapped_column(Text)
    psychology: Mapped[str | None] = mapped_column(Text)
    special_needs: Mapped[str | None] = mapped_column(Text)
    living_situation: Mapped[str | None] = mapped_column(Text)  # 生活状况: who cooks, who helps with homework...
    # Indexed: every photo upload's quota check asks whether some file uses the photo (photos.quota.unlinked).
    photo_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    # Files are kept current: re-surveyed at the start of each term (每学期初摸底).
    surveyed_on: Mapped[date | None] = mapped_column(Date)
    enrolled_on: Mapped[date | None] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date)
    leave_reason: Mapped[str | None] = mapped_column(String(16))  # LEAVE_REASONS, set with left_on
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    school: Mapped[School] = relationship()
    village: Mapped[Village | None] = relationship()
    guardians: Mapped[list[Guardian]] = relationship(
        back_populates="child", order_by="Guardian.id", cascade="all, delete-orphan"
    )
    pairings: Mapped[list[Pairing]] = relationship(back_populates="child", cascade="all, delete-orphan")
    consents: Mapped[list[Consent]] = relationship(back_populates="child", order_by="Consent.id")

    # Dashboards group a school's children by class or village: lead with the school, or the planner scans the city.
    __table_args__ = (UniqueConstraint("school_id", "student_no"),
                      Index("ix_child_school_class", "school_id", "class_name"),
                      Index("ix_child_school_village", "school_id", "village_id"))

    @property
    def responsible_teacher(self) -> User | None:
        """The one teacher answerable for this child (包保责任人)."""
        return next((p.teacher for p in self.pairings if p.responsible), None)

    @property
    def entrusted_guardian(self) -> Guardian | None:
        """The adult the child lives with, usually a grandparent."""
        return next((g for g in self.guardians if g.role == "guardian"), None)

    def parents(self) -> list[Guardian]:
        """Father and mother entries, in that order."""
        return sorted((g for g in self.guardians if g.role in ("father", "mother")), key=lambda g: g.role != "father")

    @property
    def active_consent(self) -> Consent | None:
        """The latest consent that has not been withdrawn."""
        return next((c for c in reversed(self.consents) if c.withdrawn_at is None), None)

    def age_on(self, day: date) -> int | None:
        """Age in whole years on a day."""
        if not self.birth_date:
            return None
        b = self.birth_date
        return day.year - b.year - ((day.month, day.day) < (b.month, b.day))


class Guardian(db.Model):
    """A parent or the entrusted guardian of a child (several per child)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64))
    relationship_: Mapped[str | None] = mapped_column("relationship", String(32))
    phone: Mapped[str | None] = mapped_column(String(32))
    age: Mapped[int | None] = mapped_column(Integer)
    health: Mapped[str | None] = mapped_column(String(120))
    occupation: Mapped[str | None] = mapped_column(String(64))
    work_place: Mapped[str | None] = mapped_column(String(120))
    employer: Mapped[str | None] = mapped_column(String(120))
    employer_address: Mapped[str | None] = mapped_column(String(200))
    employer_phone: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(200))
    # The registration photo (父母登记表有照片), a photo of the school's store like the child's own photo_sha256.
    # Indexed: every photo upload's quota check asks whether some file uses the photo (photos.quota.unlinked).
    photo_sha256: Mapped[str | None] = mapped_column(String(64), index=True)

    child: Mapped[Child] = relationship(back_populates="guardians")


class Pairing(db.Model):
    """A teacher paired with a child (结对帮扶); one pairing per child is the responsible one."""

    id: Mapped[int] = mapped_column(primary_key=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), index=True)
    responsible: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    teacher: Mapped[User] = relationship()
    child: Mapped[Child] = relationship(back_populates="pairings")

    __table_args__ = (
        UniqueConstraint("teacher_id", "child_id"),
        # At most one responsible teacher per child, enforced by the database itself.
        Index(
            "uq_pairing_one_responsible",
            "child_id",
            unique=True,
            sqlite_where=text("responsible"),
            postgresql_where=text("responsible"),
        ),
    )


class Consent(db.Model):
    """The guardian's consent to keep the child's file (PIPL art. 31)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), index=True)
    guardian_id: Mapped[int] = mapped_column(ForeignKey("guardian.id"))
    consented_on: Mapped[date] = mapped_column(Date)
    notice_version: Mapped[str] = mapped_column(String(32))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    child: Mapped[Child] = relationship(back_populates="consents")
    guardian: Mapped[Guardian] = relationship()


class LoginFailure(db.Model):
    """A failed login, kept in the database so that several app servers share the limit."""

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    ip: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class ClassTeacher(db.Model):
    """A teacher who is class teacher (班主任) of a class of the school: sees every child of that class."""

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    class_name: Mapped[str] = mapped_column(String(32))
    teacher_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)

    teacher: Mapped[User] = relationship()
    __table_args__ = (UniqueConstraint("school_id", "class_name", "teacher_id"),)


class FileChange(db.Model):
    """One field of a child's file changed: who, when, old -> new, and from which edit, survey or import."""

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"))
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    # "name", "guardian:12.phone" (a guardian's field), "guardian:+" (a guardian added) ...
    field: Mapped[str] = mapped_column(String(64))
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    source: Mapped[str] = mapped_column(String(16))  # FILE_CHANGE_SOURCES
    source_id: Mapped[int | None] = mapped_column(Integer)  # e.g. the survey's id

    user: Mapped[User | None] = relationship()
    __table_args__ = (Index("ix_file_change_child_at", "child_id", "at"),)
