"""Counts of children's files for the bureau's figures (aggregates only: no child is named)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from ..extensions import db
from ..models import Child


def dropouts_by_school(school_ids: list[int], start: date, end: date) -> dict[int, int]:
    """{school id: children who left as dropouts (辍学) between `start` and `end`, both inclusive}; 0 for none."""
    rows = db.session.execute(
        select(Child.school_id, func.count()).where(Child.school_id.in_(school_ids), Child.leave_reason == "dropped_out",
                                                    Child.left_on >= start, Child.left_on <= end)
        .group_by(Child.school_id)) if school_ids else []
    return {sid: 0 for sid in school_ids} | {sid: n for sid, n in rows}
