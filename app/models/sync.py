"""The roster's version stamps: what lets the sync API answer If-None-Match without building the roster."""
from __future__ import annotations

from sqlalchemy import BigInteger, Integer
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db

# The row that every school's roster also depends on: bumped by changes whose school is unknown (bulk statements).
ALL_SCHOOLS = 0


class RosterStamp(db.Model):
    """A counter per school (and ALL_SCHOOLS), raised in the same transaction as any change a roster shows.

    No foreign key: the ALL_SCHOOLS row has no school, and a counter outliving its school is harmless."""
    __tablename__ = "roster_stamp"

    school_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
