"""Who may see what: the one place where queries are scoped by the caller and roles are checked.

- teacher: only the children they are paired with;
- committee: only the children of their own village;
- principal, counsellor: every child of their school;
- admin: manages accounts and villages of their school, not children's files;
- records follow the children: a teacher sees the records of their paired children and their own records,
  a committee member only the home visits in their village; that a counselling session took place (date, child,
  counsellor) only counsellors and the principal;
- a record's content (its fields and photos) is read by whoever sees the record, except counselling notes: only the
  school's counsellors read those, and never in print (may_read_content);
- photos are seen by their uploader and by whoever may read the content of a record that lists them;
- incidents: the school's for principal and counsellor; a teacher the ones they reported or about their children;
- bureau (county education bureau staff): aggregates of the schools of their own county only — never a child, a
  record, a photo or an export of a school (those answer 404 for them as for anyone outside the school);
- bureau_admin: onboards the county's schools and their principals and admins; admin: that school's staff accounts;
- nobody sees another school. Unknown or forbidden ids answer 404, so existence is not revealed.

CAPABILITIES is the one table of which roles may do what; views check it with `requires`, code with `can`.
"""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import Select, exists, false, select

from .extensions import db
from .models import (CONFIDENTIAL_KINDS, CONFIRMED_KINDS, COUNTY_ROLES, Child, Confirmation, Incident, Pairing, Photo, Record, RecordPhoto, School,
                     User)

CAPABILITIES: dict[str, tuple[str, ...]] = {
    "read_children": ("teacher", "committee", "principal", "counsellor"),  # lists, files, cards, timelines, roster
    "see_whole_school": ("principal", "counsellor"),  # every child and record of the school
    "list_children_at_home": ("teacher", "committee"),  # the home page lists their (few) children
    "see_counselling": ("counsellor", "principal"),  # that a session took place: its date, child and counsellor
    "read_counselling": ("counsellor",),  # what was said: 心理咨询资料予以绝对保密, the principal included
    "manage_children": ("principal",),  # files, guardians, consent, pairings, roster import
    "manage_villages": ("principal", "admin"),
    "write_records": ("teacher", "principal", "counsellor"),  # and see the ones returned to them
    "keep_duties": ("teacher",),  # has a due list
    "plan_duties": ("principal",),  # duty rules, terms, the dashboard
    "review_records": ("principal",),  # and sees every record's flags and reviewers' comments
    "confirm_visits": ("committee",),  # and sees the confirmation history of its village's visits
    "read_term_records": ("teacher", "principal"),
    "read_monthly": ("principal", "counsellor"),
    "report_incidents": ("teacher", "principal", "counsellor"),
    "see_all_incidents": ("principal", "counsellor"),  # and close any of them
    "read_audit": ("principal",),
    # The county tier (step 11).
    "see_county": ("bureau", "bureau_admin"),  # the bureau's pages: aggregates of the county's schools, no child
    "manage_schools": ("bureau_admin",),  # onboards schools, their principals and admins
    "manage_staff": ("admin",),  # that school's staff accounts: create, deactivate, reset, import
    "submit_monthly": ("principal",),  # prepares and submits the month's report to the bureau
    "receive_monthly": ("bureau",),  # marks a school's report received or returns it
    "ack_emergencies": ("bureau",),  # acknowledges an emergency's bureau notice
    # The child's file kept current (step 12).
    "survey_children": ("teacher",),  # the start-of-term survey of their (class's) children
    "apply_surveys": ("principal",),  # applies or rejects each proposed change to a file
}


def can(user: User, capability: str) -> bool:
    """True when `user`'s role has this capability (see CAPABILITIES)."""
    return user.role in CAPABILITIES[capability]


def schools_query(user: User) -> Select:
    """A SELECT of the schools `user` may see: the county's for bureau staff, their own for everyone else."""
    if can(user, "see_county"):
        return select(School).where(School.county_id == user.county_id).where(School.county_id.is_not(None))
    return select(School).where(School.id == user.school_id)


def get_school(user: User, school_id: int) -> School:
    """The school with this id if `user` may see it; 404 otherwise."""
    school = db.session.scalar(schools_query(user).where(School.id == school_id))
    if school is None:
        abort(404)
    return school


def children_query(user: User) -> Select:
    """A SELECT of the children `user` may see; every child list starts here."""
    q = select(Child).where(Child.school_id == user.school_id)
    if can(user, "see_whole_school"):
        return q
    if user.role == "teacher":
        paired = exists().where(Pairing.child_id == Child.id, Pairing.teacher_id == user.id)
        return q.where(paired)
    if user.role == "committee" and user.village_id is not None:
        return q.where(Child.village_id == user.village_id)
    return q.where(false())


def child_ids_query(user: User) -> Select:
    """The ids of the children `user` may see, for use in IN (...) subqueries."""
    return children_query(user).with_only_columns(Child.id)


def get_child(user: User, child_id: int) -> Child:
    """The child with this id if `user` may see it; 404 otherwise."""
    child = db.session.scalar(children_query(user).where(Child.id == child_id))
    if child is None:
        abort(404)
    return child


def can_see_child(user: User, child_id: int) -> bool:
    """True when `user` may see the child with this id."""
    return db.session.scalar(child_ids_query(user).where(Child.id == child_id)) is not None


def records_query(user: User) -> Select:
    """A SELECT of the records `user` may see; every record list, page and export starts here."""
    q = select(Record).where(Record.school_id == user.school_id)
    if not can(user, "see_counselling"):
        q = q.where(Record.kind.not_in(CONFIDENTIAL_KINDS))
    if can(user, "see_whole_school"):
        return q
    if user.role == "teacher":
        return q.where((Record.author_id == user.id) | Record.child_id.in_(child_ids_query(user)))
    if user.role == "committee":
        # Minimum necessary: the village confirms visits and holiday handovers; talks and calls are not its business.
        return q.where(Record.kind.in_(CONFIRMED_KINDS), Record.child_id.in_(child_ids_query(user)))
    return q.where(false())


def get_record(user: User, record_id: int) -> Record:
    """The record with this id if `user` may see it; 404 otherwise."""
    record = db.session.scalar(records_query(user).where(Record.id == record_id))
    if record is None:
        abort(404)
    return record


def may_read_content(user: User, record: Record, printed: bool = False) -> bool:
    """Whether `user`, who sees `record` (through records_query), may read its fields and see its photos.

    Counselling notes only for the school's counsellors, and never on a printed page (the archive is passed around):
    everyone else who sees such a record sees only that a session took place."""
    if record.kind not in CONFIDENTIAL_KINDS:
        return True
    return not printed and can(user, "read_counselling")


def content_query(user: User) -> Select:
    """records_query narrowed to the records whose content `user` may read (may_read_content, as SQL)."""
    q = records_query(user)
    return q if can(user, "read_counselling") else q.where(Record.kind.not_in(CONFIDENTIAL_KINDS))


def visible_photo(user: User, sha256: str) -> Photo | None:
    """A photo with these bytes that `user` uploaded or may see through a record whose content they may read;
    None otherwise (a counselling session's photos are its content)."""
    own = db.session.scalar(select(Photo).where(Photo.sha256 == sha256, Photo.uploader_id == user.id))
    if own is not None:
        return own
    seen = content_query(user).with_only_columns(Record.id).subquery()
    listed = db.session.scalar(
        select(Photo)
        .join(RecordPhoto, RecordPhoto.photo_id == Photo.id)
        .where(Photo.sha256 == sha256, RecordPhoto.record_id.in_(select(seen.c.id)))
        .limit(1)
    )
    if listed is not None:
        return listed
    # A signature is not one of the record's photos but the evidence of its confirmation.
    return db.session.scalar(
        select(Photo)
        .join(Confirmation, Confirmation.photo_id == Photo.id)
        .where(Photo.sha256 == sha256, Confirmation.record_id.in_(select(seen.c.id)))
        .limit(1)
    )


def may_see_evidence(user: User, record: Record) -> bool:
    """A record's flags and score, and its reviewers' comments: the principal and the record's author."""
    return can(user, "review_records") or record.author_id == user.id


def may_see_history(user: User, record: Record) -> bool:
    """A record's review and confirmation steps: those who see its evidence, and the village committee."""
    return may_see_evidence(user, record) or can(user, "confirm_visits")


def can_manage_children(user: User) -> bool:
    """Principals create and edit files, guardians and pairings."""
    return can(user, "manage_children")


def incidents_query(user: User) -> Select:
    """The incidents `user` may see: the school's for principal and counsellor; a teacher the ones they reported or
    about their paired children; nobody else."""
    q = select(Incident).where(Incident.school_id == user.school_id)
    if can(user, "see_all_incidents"):
        return q
    if user.role == "teacher":
        return q.where((Incident.reported_by_id == user.id) | Incident.child_id.in_(child_ids_query(user)))
    return q.where(false())


def may_close_incident(user: User, incident: Incident) -> bool:
    """Its reporter closes an incident, or whoever sees all of the school's."""
    return can(user, "see_all_incidents") or incident.reported_by_id == user.id


def may_hold_confirm_secret(user: User) -> bool:
    """Only a committee member with a village gets a code secret (the code confirms visits in that village)."""
    return can(user, "confirm_visits") and user.village_id is not None


def term_record_teacher(user: User, wanted: int | None) -> User | None:
    """Whose term record `user` asks for (?teacher=id): a teacher only their own; the principal any teacher of the
    school, or None to choose one; 404 otherwise."""
    if user.role == "teacher":
        if wanted not in (None, user.id):
            abort(404)
        return user
    if wanted is None:
        return None
    teacher = db.session.scalar(select(User).where(User.id == wanted, User.school_id == user.school_id,
                                                   User.role == "teacher"))
    if teacher is None:
        abort(404)
    return teacher


def requires(capability: str):
    """Let only the roles with this capability in (login first; 403 for the school's other roles, 404 for the
    county's staff, for whom a school's pages do not exist)."""
    roles = CAPABILITIES[capability]

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(404 if current_user.role in COUNTY_ROLES else 403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def school_staff_required(view):
    """Login, and a school's own staff only: the county's staff answer 404 (the phone's API for a school's children,
    records, photos and incidents is none of theirs; their pages are aggregates)."""
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if current_user.role in COUNTY_ROLES:
            abort(404)
        return view(*args, **kwargs)

    return wrapped
