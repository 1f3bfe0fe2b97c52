"""The duty tally: per child, the time of the latest counting record of each duty kind (models.DutyTally).

Kept in the same transaction as the write, by a flush hook, so every path that writes records through the ORM (sync,
forms, review, corrections, demo data, tests) keeps it right without knowing about it. Bulk loads through Core (the
city benchmark) call `rebuild()`; so can an operator after editing records by hand (`flask rebuild-tallies`).

New records can only move a child's latest time forward, so they merge with GREATEST semantics: two teachers syncing
records of the same child at once (each transaction seeing only its own new rows) end with the later of the two.
A review decision or a deletion can move it back, so those recompute the child's row from its records.
"""
from __future__ import annotations

from functools import lru_cache

from sqlalchemy import and_, case, delete, event, func, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..models import Child, DutyTally, Record
from .services import COUNTING_STATES, DUTY_KINDS

COLUMNS = {kind: getattr(DutyTally, f"{kind}_at") for kind in DUTY_KINDS}


def _latest(child_ids=None):
    """SELECT child_id, latest counting time per duty kind, for these children (all when None); children with no
    counting records get a row of NULLs when named."""
    cols = [func.max(case((Record.kind == kind, Record.occurred_at))).label(col.key) for kind, col in COLUMNS.items()]
    counts = (Record.kind.in_(DUTY_KINDS), Record.review_state.in_(COUNTING_STATES))
    if child_ids is None:
        return select(Record.child_id, *cols).where(*counts).group_by(Record.child_id)
    return (select(Child.id, *cols).select_from(Child).outerjoin(Record, and_(Record.child_id == Child.id, *counts))
            .where(Child.id.in_(child_ids)).group_by(Child.id))


def _upsert(conn, source) -> None:
    """Insert-or-replace tally rows from a SELECT (child_id, one time per kind)."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(DutyTally).from_select(["child_id", *[c.key for c in COLUMNS.values()]], source)
    conn.execute(stmt.on_conflict_do_update(index_elements=[DutyTally.child_id],
                                            set_={c.key: stmt.excluded[c.key] for c in COLUMNS.values()}))


def _lock(conn, ids) -> None:
    """PostgreSQL: make sure the children's rows exist and lock them, before the recompute reads their records.

    Without it, a recompute (a review return) whose read began before another transaction committed a new record of
    the same child would, after waiting for that row, write the older time over the newer one (READ COMMITTED). Once
    the lock is ours, the next statement sees every transaction that wrote the row. SQLite serialises writers itself."""
    if conn.dialect.name != "postgresql":
        return
    conn.execute(postgresql.insert(DutyTally).from_select(["child_id"], select(Child.id).where(Child.id.in_(ids)))
                 .on_conflict_do_nothing(index_elements=[DutyTally.child_id]))
    conn.execute(select(DutyTally.child_id).where(DutyTally.child_id.in_(ids)).order_by(DutyTally.child_id)
                 .with_for_update())


def refresh(conn, child_ids) -> None:
    """Recompute the tally rows of these children from their records (a review decision or a deletion can move a
    child's latest time back)."""
    ids = sorted(set(child_ids))
    for i in range(0, len(ids), 500):
        _lock(conn, ids[i:i + 500])
        _upsert(conn, _latest(ids[i:i + 500]))


@lru_cache(maxsize=None)
def _merge_statement(dialect: str):
    """The forward-only upsert of one tally row from bound values, built once per dialect: every record batch runs it,
    and a multi-row VALUES built afresh (with its CASE per column) cost more CPU than the rest of the batch's writes."""
    base = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(DutyTally)
    new = base.excluded
    # The later of what is stored and what this transaction sees; NULL never wins.
    return base.on_conflict_do_update(index_elements=[DutyTally.child_id], set_={
        c.key: case((c.is_(None), new[c.key]), (new[c.key] > c, new[c.key]), else_=c) for c in COLUMNS.values()})


def merge(conn, latest: dict[int, dict[str, object]]) -> None:
    """Move the tally rows forward to these times ({child_id: {column: time}}, from new records): no record is read.
    One statement for many rows (SQLAlchemy batches an INSERT's parameter sets), in child order: concurrent merges
    lock the rows in the same order."""
    rows = [{"child_id": cid, **{c.key: times.get(c.key) for c in COLUMNS.values()}}
            for cid, times in sorted(latest.items())]
    if rows:
        conn.execute(_merge_statement(conn.dialect.name), rows)


def rebuild(conn) -> None:
    """Recompute every child's row (after a bulk load, or to repair)."""
    conn.execute(delete(DutyTally))
    _upsert(conn, _latest())


@event.listens_for(Session, "after_flush")
def _after_flush(session, _ctx) -> None:
    changed = set()
    latest: dict[int, dict[str, object]] = {}  # new counting records: child -> column -> latest time
    for obj in session.new:
        if isinstance(obj, Record) and obj.kind in DUTY_KINDS and obj.review_state in COUNTING_STATES:
            times = latest.setdefault(obj.child_id, {})
            col = COLUMNS[obj.kind].key
            if obj.occurred_at is not None and (times.get(col) is None or obj.occurred_at > times[col]):
                times[col] = obj.occurred_at
    for obj in session.dirty:
        if isinstance(obj, Record) and obj.kind in DUTY_KINDS:
            attrs = inspect(obj).attrs
            if any(attrs[a].history.has_changes() for a in ("review_state", "occurred_at", "child_id", "kind")):
                changed.add(obj.child_id)
                changed.update(x for x in attrs.child_id.history.deleted if x is not None)
    for obj in session.deleted:
        if isinstance(obj, Record):
            changed.add(obj.child_id)
    if not (latest or changed):
        return
    conn = session.connection()
    if changed:
        refresh(conn, changed)
    merge(conn, {cid: times for cid, times in latest.items() if cid not in changed})
