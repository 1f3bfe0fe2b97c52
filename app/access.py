"""Who may see what: the one place where queries are scoped by the caller and roles are checked.

- teacher: only the children they are paired with;
- committee: only the children of their own village;
- principal, counsellor: every child of their school;
- admin: manages accounts and villages of their school, not children's files;
- records follow the children: a teacher sees the records of their paired children and their own records,
  a committee member only the home visits in their village, counselling notes only counsellors and the principal;
- photos are seen by their uploader and by whoever may see a record that lists them;
- nobody sees another school. Unknown or forbidden ids answer 404, so existence is not revealed.
"""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import Select, exists, false, select

from .extensions import db
from .models import Child, Confirmation, Pairing, Photo, Record, RecordPhoto, User

SCHOOL_WIDE = ("principal", "counsellor")
CHILD_READERS = ("teacher", "committee", "principal", "counsellor")


def children_query(user: User) -> Select:
    """A SELECT of the children `user` may see; every child list starts here."""
    q = select(Child).where(Child.school_id == user.school_id)
    if user.role in SCHOOL_WIDE:
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


CONFIDENTIAL_READERS = ("counsellor", "principal")


def records_query(user: User) -> Select:
    """A SELECT of the records `user` may see; every record list, page and export starts here."""
    q = select(Record).where(Record.school_id == user.school_id)
    if user.role not in CONFIDENTIAL_READERS:
        q = q.where(Record.kind != "counselling")
    if user.role in SCHOOL_WIDE:
        return q
    if user.role == "teacher":
        return q.where((Record.author_id == user.id) | Record.child_id.in_(child_ids_query(user)))
    if user.role == "committee":
        # Minimum necessary: the village confirms visits; talks and calls are not its business.
        return q.where(Record.kind == "home_visit", Record.child_id.in_(child_ids_query(user)))
    return q.where(false())


def get_record(user: User, record_id: int) -> Record:
    """The record with this id if `user` may see it; 404 otherwise."""
    record = db.session.scalar(records_query(user).where(Record.id == record_id))
    if record is None:
        abort(404)
    return record


def visible_photo(user: User, sha256: str) -> Photo | None:
    """A photo with these bytes that `user` uploaded or may see through a record; None otherwise."""
    own = db.session.scalar(select(Photo).where(Photo.sha256 == sha256, Photo.uploader_id == user.id))
    if own is not None:
        return own
    seen = records_query(user).with_only_columns(Record.id).subquery()
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
    return user.role == "principal" or record.author_id == user.id


def may_see_history(user: User, record: Record) -> bool:
    """A record's review and confirmation steps: those who see its evidence, and the village committee."""
    return may_see_evidence(user, record) or user.role == "committee"


def can_manage_children(user: User) -> bool:
    """Principals create and edit files, guardians and pairings."""
    return user.role == "principal"


def school_users_query(user: User) -> Select:
    """Staff accounts of the caller's own school."""
    return select(User).where(User.school_id == user.school_id)


def roles_required(*roles: str):
    """Let only the given roles in (403 for the others, login first)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
