"""The roster's version stamp: a counter per school raised in the same transaction as every change a roster shows.

The roster's ETag is made from the stamp (and who asks, the day, the language, the code), so `If-None-Match` is
answered with two small reads instead of building the roster (about 20 ms of CPU per request). A stale roster is
worse than a slow one, so the rules are conservative:
- every write through the ORM session of a model the roster reads (children, guardians, pairings, villages, schools,
  users but for their login secrets, records, review events, duty rules, terms, which also make the holidays)
  raises the counter of the school(s) it belongs to, the old school too when one moves;
- a bulk UPDATE/DELETE/INSERT statement on one of those tables raises ALL_SCHOOLS, which every roster includes;
- the counter is raised just before the outermost commit, in that transaction (the row lock is held only for the
  commit), and the roster route reads the stamp *before* it reads anything else: a roster is never labelled with a
  stamp newer than its contents (at worst older, which only costs one more download).
Writes that bypass the session (Core `connection.execute`, raw SQL, other programs) must call `bump()` themselves.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from flask import current_app
from flask_sqlalchemy.session import Session
from sqlalchemy import event, inspect, select
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db
from ..models import (ALL_SCHOOLS, CareCategory, Child, ChildCategory, ClassTeacher, DutyRule, FollowUp, Guardian, Pairing, Record, ReviewEvent, RosterStamp, School,
                      Term, User, Village)

_PENDING = "roster_stamp_schools"
# Columns of a user that no roster shows: a login, a new password or "log out my other phones" changes nothing in it.
USER_PRIVATE = frozenset({"password_hash", "session_version", "totp_secret"})
# Rows that carry their school: a class teacher changes which children a teacher's roster holds; a child's categories
# (and their names) which duties are on it; the caller's open follow-ups are its to-do.
_WITH_SCHOOL = (Village, Child, Record, DutyRule, Term, ClassTeacher, ChildCategory, CareCategory, FollowUp)
_TABLES = {m.__table__.name for m in (Guardian, Pairing, ReviewEvent, School, User, *_WITH_SCHOOL)}


def _values(obj, attr: str) -> set:
    """The attribute's value now and, when changed in this flush, before (None left out)."""
    hist = inspect(obj).attrs[attr].history
    vals = {*hist.added, *hist.unchanged, *hist.deleted} if hist.has_changes() or hist.unchanged else {getattr(obj, attr)}
    return vals - {None}


def _schools_of(session, model, ids) -> set:
    """The schools of the children / records with these ids (a SELECT for one not in the session)."""
    out = set()
    for key in ids:
        row = session.get(model, key)
        out.add(row.school_id if row is not None else None)
    return out


def _schools(session, obj, deleted: bool) -> set | None:
    if isinstance(obj, School):
        return {obj.id}
    if isinstance(obj, _WITH_SCHOOL):
        return _values(obj, "school_id")
    if isinstance(obj, User):
        state = inspect(obj)
        if not deleted and state.persistent and all(
                a.key in USER_PRIVATE for a in state.attrs if a.history.has_changes()):
            return None
        return _values(obj, "school_id")
    if isinstance(obj, (Guardian, Pairing)):
        out = _schools_of(session, Child, _values(obj, "child_id"))
        if obj.child is not None:  # a new one may only have its relationship set yet
            out.add(obj.child.school_id)
        return out
    if isinstance(obj, ReviewEvent):
        out = _schools_of(session, Record, _values(obj, "record_id"))
        record = getattr(obj, "record", None)  # no such relationship today; one added later must count too
        if record is not None:
            out.add(record.school_id)
        return out
    return None


def schools_touched(session, obj, deleted: bool = False) -> set:
    """The schools whose rosters may show `obj`: empty when none does, ALL_SCHOOLS when one is unknown."""
    out = _schools(session, obj, deleted)
    if out is None:
        return set()
    return {ALL_SCHOOLS} if not out or None in out else out


@event.listens_for(Session, "before_flush")
def _collect(session, flush_context, instances) -> None:
    pending = session.info.setdefault(_PENDING, set())
    for obj in session.new:
        pending |= schools_touched(session, obj)
    for obj in session.dirty:
        if session.is_modified(obj, include_collections=False):
            pending |= schools_touched(session, obj)
    for obj in session.deleted:
        pending |= schools_touched(session, obj, deleted=True)


@event.listens_for(Session, "do_orm_execute")
def _collect_bulk(state) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    table = getattr(state.statement, "table", None)
    if table is None or table.name not in _TABLES:
        return
    if table.name == User.__table__.name and state.is_update:
        keys = {getattr(k, "key", k) for k in (state.statement._values or {})}
        if keys and keys <= USER_PRIVATE:
            return
    state.session.info.setdefault(_PENDING, set()).add(ALL_SCHOOLS)


@event.listens_for(Session, "before_commit")
def _raise_stamps(session) -> None:
    if session.in_nested_transaction():
        return  # the outermost commit raises them: a savepoint may still be rolled back
    session.flush()  # commit flushes after this event: collect what it would flush first
    schools = session.info.pop(_PENDING, None)
    if schools and current_app.config["ROSTER_STAMPS"]:
        bump(schools, session)


@event.listens_for(Session, "after_transaction_end")
def _forget(session, transaction) -> None:
    if transaction.parent is None:  # the outermost transaction ended (committed or rolled back)
        session.info.pop(_PENDING, None)


def bump(schools, session=None) -> None:
    """Raise the stamps of these schools (ALL_SCHOOLS: of every school) in the current transaction."""
    session = session or db.session
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # Sorted: two transactions raising the same schools lock their rows in the same order (no deadlock).
    for sid in sorted(schools):
        stmt = insert(RosterStamp).values(school_id=sid, version=1)
        session.connection().execute(stmt.on_conflict_do_update(
            index_elements=[RosterStamp.school_id], set_={"version": RosterStamp.version + 1}))


_code_version: str | None = None


def code_version() -> str:
    """A digest of the app's code and translations: a new release may change what a roster contains."""
    global _code_version
    if _code_version is None:
        root = Path(__file__).resolve().parent.parent
        h = hashlib.sha256()
        for p in sorted([*root.rglob("*.py"), *root.rglob("*.mo")]):
            h.update(str(p.relative_to(root)).encode())
            h.update(p.read_bytes())
        _code_version = h.hexdigest()[:16]
    return _code_version


def roster_etag(user, today, locale) -> str:
    """The ETag of `user`'s roster: changes whenever anything the roster shows may have changed. Read it first."""
    versions = dict(db.session.execute(select(RosterStamp.school_id, RosterStamp.version)
                                       .where(RosterStamp.school_id.in_({ALL_SCHOOLS, user.school_id or ALL_SCHOOLS}))).all())
    parts = (code_version(), user.id, user.role, user.school_id, user.village_id, today.isoformat(), str(locale),
             versions.get(ALL_SCHOOLS, 0), versions.get(user.school_id, 0))
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:32]
