"""The rules of a child's file: creation with consent, guardians, pairings. Used by pages, import and seed."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from ..audit import audit
from ..clock import utcnow
from ..extensions import db
from ..models import Child, Consent, Guardian, Pairing, User, Village
from .history import record_changes

CHILD_FIELDS = (
    "student_no", "name", "sex", "birth_date", "grade", "class_name", "boarding", "village_id", "address",
    "parents_away", "personality", "interests", "health", "study", "psychology", "special_needs",
    "surveyed_on", "left_on", "living_situation", "leave_reason",
)
# Set only by leaving and returning (leave_child, readmit_child): a file's edit form never closes it.
LEAVE_FIELDS = ("left_on", "leave_reason")
GUARDIAN_FIELDS = (
    "role", "name", "relationship_", "phone", "age", "health", "occupation", "work_place", "employer",
    "employer_address", "employer_phone", "address",
)


class FileError(ValueError):
    """A rule of the file was broken; the message is shown to the user."""


def _clean(value):
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _apply(obj, data: dict, fields) -> list[tuple[str, object, object]]:
    """Set the given fields; returns (field, old, new) for each value that changed, for the file's history."""
    changed = []
    for f in fields:
        if f in data:
            old, new = getattr(obj, f), _clean(data[f])
            if old != new:
                changed.append((f, old, new))
            setattr(obj, f, new)
    return changed


def check_village(school_id: int, village_id: int | None) -> None:
    """A child's village must belong to the child's school."""
    if village_id is None:
        return
    v = db.session.get(Village, village_id)
    if v is None or v.school_id != school_id:
        from flask_babel import gettext as _

        raise FileError(_("所选村不属于本校。"))


def create_child(school_id: int, child_data: dict, guardian_data: dict, consent_data: dict, by: User | None) -> Child:
    """Create a file with its consenting guardian and the consent; no file without consent."""
    from flask_babel import gettext as _

    if not guardian_data or not _clean(guardian_data.get("name")):
        raise FileError(_("建档必须填写同意建档的监护人。"))
    if not consent_data or not consent_data.get("consented_on") or not _clean(consent_data.get("notice_version")):
        raise FileError(_("建档必须记录监护人的同意日期和告知书版本。"))
    if not _clean(child_data.get("student_no")) or not _clean(child_data.get("name")):
        raise FileError(_("学号和姓名必填。"))
    check_village(school_id, child_data.get("village_id"))
    exists = db.session.scalar(
        select(Child.id).where(Child.school_id == school_id, Child.student_no == _clean(child_data["student_no"]))
    )
    if exists:
        raise FileError(_("学号已存在。"))
    child = Child(school_id=school_id, enrolled_on=date.today())
    _apply(child, child_data, CHILD_FIELDS)
    guardian = Guardian(child=child)
    _apply(guardian, guardian_data, GUARDIAN_FIELDS)
    guardian.role = guardian.role or "guardian"
    consent = Consent(
        child=child,
        guardian=guardian,
        consented_on=consent_data["consented_on"],
        notice_version=_clean(consent_data["notice_version"]),
        recorded_by_id=getattr(by, "id", None),
    )
    db.session.add_all([child, guardian, consent])
    db.session.flush()
    audit("create", "child", child.id, user=by)
    return child


def update_child(child: Child, data: dict, by: User | None, source: str = "edit", source_id: int | None = None) -> None:
    """Change the fields of a file (the school stays); each change goes into the file's history."""
    from flask_babel import gettext as _

    if "village_id" in data:
        check_village(child.school_id, data.get("village_id"))
    new_no = _clean(data.get("student_no"))
    if new_no and new_no != child.student_no:
        clash = db.session.scalar(
            select(Child.id).where(Child.school_id == child.school_id, Child.student_no == new_no, Child.id != child.id)
        )
        if clash:
            raise FileError(_("学号已存在。"))
    changes = _apply(child, data, CHILD_FIELDS)
    record_changes(child, changes, by, source, source_id)
    db.session.flush()
    audit("update", "child", child.id, user=by)


def save_guardian(child: Child, data: dict, by: User | None, guardian: Guardian | None = None, source: str = "edit",
                  source_id: int | None = None) -> Guardian:
    """Add a guardian or parent to a file, or change one; a change to a guardian already on file goes into the
    file's history as "guardian:<id>.<field>" (a new entry's first values are its creation, not changes)."""
    new = guardian is None
    if new:
        guardian = Guardian(child=child)
        db.session.add(guardian)
    changes = _apply(guardian, data, GUARDIAN_FIELDS)
    db.session.flush()
    if new:
        record_changes(child, [(f"guardian:{guardian.id}", None, guardian.name)], by, source, source_id)
    else:
        record_changes(child, [(f"guardian:{guardian.id}.{f}", old, val) for f, old, val in changes], by, source, source_id)
    audit("create" if new else "update", "guardian", guardian.id, user=by)
    return guardian


def set_guardian_photo(child: Child, guardian: Guardian, sha256: str, by: User | None, source: str = "edit") -> None:
    """Make a stored photo (photos.services.save_upload) the registration photo of a parent or guardian; the change
    goes into the file's history as the child's photo does."""
    record_changes(child, [(f"guardian:{guardian.id}.photo_sha256", guardian.photo_sha256, sha256)], by, source)
    guardian.photo_sha256 = sha256
    audit("update", "guardian", guardian.id, user=by)


def record_consent(child: Child, guardian_id: int, consented_on: date, notice_version: str, by: User | None) -> Consent:
    """Record a (new) consent from one of the child's own guardians."""
    from flask_babel import gettext as _

    if guardian_id not in {g.id for g in child.guardians}:
        raise FileError(_("同意人必须是该孩子的监护人或父母。"))
    consent = Consent(
        child=child, guardian_id=guardian_id, consented_on=consented_on, notice_version=notice_version.strip(),
        recorded_by_id=getattr(by, "id", None),
    )
    db.session.add(consent)
    db.session.flush()
    audit("create", "consent", consent.id, user=by)
    return consent


def withdraw_consent(consent: Consent, by: User | None) -> None:
    """Mark a consent withdrawn; the record of it stays."""
    consent.withdrawn_at = utcnow()
    audit("withdraw", "consent", consent.id, user=by)


def set_pairings(child: Child, teacher_ids: list[int], responsible_id: int | None, by: User | None) -> None:
    """Make the child's paired teachers exactly these, with one marked responsible."""
    from flask_babel import gettext as _

    wanted = set(teacher_ids)
    if responsible_id:
        wanted.add(responsible_id)
    if wanted:
        ok = set(
            db.session.scalars(
                select(User.id).where(User.id.in_(wanted), User.role == "teacher", User.school_id == child.school_id)
            )
        )
        if ok != wanted:
            raise FileError(_("只能与本校教师结对。"))
    for p in list(child.pairings):
        if p.teacher_id not in wanted:
            child.pairings.remove(p)
        else:
            p.responsible = False
    db.session.flush()  # clear the old responsible flag before setting the new one (unique index)
    have = {p.teacher_id: p for p in child.pairings}
    for tid in wanted:
        if tid not in have:
            have[tid] = Pairing(teacher_id=tid, child=child)
            db.session.add(have[tid])
    if responsible_id:
        have[responsible_id].responsible = True
    db.session.flush()
    audit("update", "pairing", child.id, user=by)


def leave_child(child: Child, left_on: date | None, reason: str | None, by: User | None, source: str = "leave") -> None:
    """Close a file: a leaving date and a reason (LEAVE_REASONS) are required; the file is kept. A dropout (辍学)
    alerts the school's principals (控辍保学)."""
    from flask_babel import gettext as _

    from ..clock import today_local
    from ..models.people import LEAVE_REASONS
    from ..notify.services import notify, principal_ids

    if child.left_on is not None:
        raise FileError(_("该孩子已登记离校。"))
    if left_on is None or reason not in LEAVE_REASONS:
        raise FileError(_("离校须填写离校日期和原因。"))
    if left_on > today_local():
        raise FileError(_("离校日期不能晚于今天。"))
    update_child(child, {"left_on": left_on, "leave_reason": reason}, by, source)
    if reason == "dropped_out":
        # No name in the text: notifications are pushed to lock screens; the link opens the file for those allowed.
        for pid in principal_ids(child.school_id):
            notify(pid, f"dropout:{child.id}:{left_on.isoformat()}", "dropout",
                   _("有一名学生登记为辍学，请及时跟进（控辍保学）。"), f"/children/{child.id}")


def readmit_child(child: Child, by: User | None) -> None:
    """Re-admit a child who had left (复学): the file opens again, the leaving kept in its history."""
    from flask_babel import gettext as _

    if child.left_on is None:
        raise FileError(_("该孩子在校，无需复学。"))
    update_child(child, {"left_on": None, "leave_reason": None}, by, "leave")
