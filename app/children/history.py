"""A file's history: every change to a child's file or a guardian's entry, kept as who, when, old -> new and from
which edit, survey or import (FileChange). The file's services write it; pages and the archive read it."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from ..extensions import db
from ..models import FILE_CHANGE_SOURCES, Child, FileChange, User


def as_text(value) -> str | None:
    """How a value is kept in the history: dates as ISO, booleans as 1/0, the rest as text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def record_changes(child: Child, changes: list[tuple[str, object, object]], by: User | None, source: str,
                   source_id: int | None = None) -> list[FileChange]:
    """Keep one history row per (field, old, new) whose value really changed."""
    assert source in FILE_CHANGE_SOURCES, source
    rows = [FileChange(child_id=child.id, school_id=child.school_id, field=field, old=as_text(old), new=as_text(new),
                       user_id=getattr(by, "id", None), source=source, source_id=source_id)
            for field, old, new in changes if as_text(old) != as_text(new)]
    db.session.add_all(rows)
    return rows


def history(child: Child) -> list[FileChange]:
    """The file's changes, newest first."""
    return list(db.session.scalars(select(FileChange).where(FileChange.child_id == child.id)
                                   .order_by(FileChange.at.desc(), FileChange.id.desc())))
