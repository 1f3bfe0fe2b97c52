"""Who may see what: the one place where queries are scoped by the caller and roles are checked.

- teacher: only the children they are paired with;
- committee: only the children of their own village;
- principal, counsellor: every child of their school;
- admin: manages accounts and villages of their school, not children's files;
- nobody sees another school. Unknown or forbidden ids answer 404, so existence is not revealed.
"""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import Select, exists, false, select

from .extensions import db
from .models import Child, Pairing, User

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
