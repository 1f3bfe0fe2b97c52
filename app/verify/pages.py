"""What the verification pages share: records loaded with their photos, and the page size."""
from __future__ import annotations

from sqlalchemy.orm import selectinload

from ..models import Record, RecordPhoto

PAGE_SIZE = 20


def with_photos(q):
    """The query with each record's photos, author and child loaded for a list page."""
    return q.options(selectinload(Record.photos).selectinload(RecordPhoto.photo), selectinload(Record.author),
                     selectinload(Record.child))
