"""A file's history: every change to a child's file or a guardian's entry, kept as who, when, old -> new and from
which edit, survey or import (FileChange). The file's services write it; pages and the archive read it."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from ..extensions import db
from ..models import FILE_CHANGE_SOURCES, Child, FileChange, User
from ..models.people import N_


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


SOURCE_LABELS = {"edit": N_("编辑"), "survey": N_("学期初摸底"), "import": N_("花名册导入"), "leave": N_("离校或复学")}
GUARDIAN_ROLE_WORDS = {"father": N_("父亲"), "mother": N_("母亲"), "guardian": N_("委托监护人")}


def _labels(form) -> dict[str, object]:
    """A form's field labels by field name (the pages' own words for each field)."""
    return {name: unbound.args[0] for name, unbound in vars(form).items() if hasattr(unbound, "field_class")}


def _value(field: str, value: str | None, villages: dict[int, str]) -> str:
    """A stored value as the page shows it: codes as their (translated) words."""
    from flask_babel import gettext as _

    from ..models.people import LEAVE_REASONS, PARENTS_AWAY, SEXES

    if value is None or value == "":
        return "—"
    words = {"sex": SEXES, "parents_away": PARENTS_AWAY, "leave_reason": LEAVE_REASONS, "role": GUARDIAN_ROLE_WORDS}
    if field in words:
        return _(words[field].get(value, value))
    if field == "photo_sha256":  # a photo is named by the start of its hash, not shown in the history
        return _("照片 %(id)s", id=value[:8])
    if field == "boarding":
        return _("是") if value == "1" else _("否")
    if field == "village_id" and value.isdigit():
        return villages.get(int(value), value)
    return value


def history_rows(child: Child, viewer: User) -> list[dict]:
    """The file's history as pages and the printed archive show it to `viewer`: when, who, what (a guardian's field
    as "奶奶 · 电话"), old -> new in words, and from where; a category's changes only to who may read categories."""
    from flask_babel import gettext as _

    from ..access import can
    from ..duties.services import category_name

    from ..models import Guardian, Village
    from .forms import ChildForm, GuardianFields

    changes = history(child)
    child_labels = _labels(ChildForm) | {"photo_sha256": _("孩子的照片")}
    guardian_labels = _labels(GuardianFields) | {"photo_sha256": _("登记照片")}
    names = {g.id: g.relationship_ or _(GUARDIAN_ROLE_WORDS.get(g.role, g.role)) for g in
             db.session.scalars(select(Guardian).where(Guardian.child_id == child.id))}
    villages = dict(db.session.execute(select(Village.id, Village.name).where(Village.school_id == child.school_id)).all())
    users = {u.id: u.name for u in db.session.scalars(
        select(User).where(User.id.in_({c.user_id for c in changes if c.user_id})))} if changes else {}
    rows = []
    for c in changes:
        field = c.field
        if field.startswith("category:"):
            if not can(viewer, "read_care"):
                continue
            attr, label = None, f"{_('分类')} · {category_name(field[len('category:'):])}"
        elif field.startswith("guardian:"):
            gid, _dot, attr = field[len("guardian:"):].partition(".")
            who = names.get(int(gid), _("监护人")) if gid.isdigit() else _("监护人")
            label = f"{who} · {guardian_labels.get(attr, attr)}" if attr else f"{who} · {_('新增')}"
        else:
            attr = field
            label = str(child_labels.get(field, field))
        rows.append({"at": c.at, "user": users.get(c.user_id, "—"), "label": label,
                     "old": _value(attr, c.old, villages), "new": _value(attr, c.new, villages),
                     "source": _(SOURCE_LABELS.get(c.source, c.source))})
    return rows
