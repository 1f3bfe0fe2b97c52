"""Confirmation by the village committee (queue, code, signature) and the principal's review (ODK-style states).

Every change is kept as a row (Confirmation, ReviewEvent) with who, when and how; the record itself is never edited
except for its derived states and flags.
"""
from __future__ import annotations

from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload

from ..access import may_see_evidence, may_see_history, records_query
from ..audit import audit
from ..clock import as_utc, today_local
from ..extensions import db
from ..models import CONFIRMED_KINDS, Child, CodeAttempt, Confirmation, Record, ReviewEvent, User, Village
from ..notify.services import notify, principal_ids
from ..web import db_id
from . import evidence, returns, totp

# A code typed during the visit is accepted from a little before the visit's time to a few hours after it
# (the teacher may fill the time in when arriving, the code when leaving).
CODE_WINDOW_BEFORE = timedelta(minutes=30)
CODE_WINDOW_AFTER = timedelta(hours=3)
# Wrong codes one teacher may type for one village in a day (typos, a stale screen) before that teacher's codes for that
# village are no longer checked that day (the code_locked rule's text says 5). The window holds ~71 steps, so a guess
# matches one member with about 1 chance in 14,000: 5 a day make about 12 % a year per member (README, "Evidence checks").
CODE_WRONG_PER_DAY = 5


class VerifyError(ValueError):
    """A rule of review or confirmation was broken; the message is shown to the user."""


def secret_for(member: User) -> str:
    """The member's TOTP secret, made on first use."""
    if member.totp_secret is None:
        member.totp_secret = totp.new_secret()
        db.session.flush()
    return member.totp_secret


def village_members(village_id: int | None) -> list[User]:
    if village_id is None:
        return []
    return list(db.session.scalars(
        select(User).where(User.role == "committee", User.village_id == village_id, User.active,
                           User.totp_secret.is_not(None)).order_by(User.id)
    ))


def check_code(record: Record, code: str) -> Confirmation:
    """Match a code typed on the teacher's phone against the committee members of the child's village."""
    child = db.session.get(Child, record.child_id)
    village_id = child.village_id if child else None
    members = village_members(village_id)
    tries = _code_try(record, village_id, 1) if members else 0
    if tries > CODE_WRONG_PER_DAY:
        return _code_locked(record, village_id, code)
    occurred = as_utc(record.occurred_at)
    latest = min(occurred + CODE_WINDOW_AFTER, as_utc(record.received_at))
    first, last = totp.step_of((occurred - CODE_WINDOW_BEFORE).timestamp()), totp.step_of(latest.timestamp())
    for member in members:
        step = totp.matching_step(member.totp_secret, code, first, last)
        if step is None:
            continue
        used = db.session.scalar(select(Confirmation.id).where(
            Confirmation.by_id == member.id, Confirmation.code_step == step, Confirmation.method == "code",
            Confirmation.outcome == "confirmed", Confirmation.record_id != record.id))
        c = Confirmation(record_id=record.id, by_id=member.id, method="code", code_step=step,
                         outcome="replayed" if used else "confirmed")
        break
    else:
        c = Confirmation(record_id=record.id, method="code", outcome="invalid", comment=code)
    db.session.add(c)
    if c.outcome == "confirmed":
        record.confirm_state = "confirmed"
    if c.outcome != "invalid" and members:
        _code_try(record, village_id, -1)  # a code that matched a member's step was no guess
    elif tries == CODE_WRONG_PER_DAY:
        _alert_code_locked(record, village_id)
    return c


def _code_try(record: Record, village_id: int, delta: int) -> int:
    """Add `delta` to the author's code tries for the village on the day the record arrived; return the new count.

    One upsert: on PostgreSQL concurrent requests wait on the row's lock, on SQLite on the database's write lock, so
    each sees the count the others left (counting earlier code_invalid flags would miss requests still running)."""
    key = {"author_id": record.author_id, "village_id": village_id, "day": _code_day(record)}
    if delta < 0:
        db.session.execute(update(CodeAttempt).filter_by(**key).values(tries=CodeAttempt.tries + delta))
        return 0
    insert = postgresql.insert if db.session.connection().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(CodeAttempt).values(**key, tries=delta).on_conflict_do_update(
        index_elements=list(key), set_={"tries": CodeAttempt.tries + delta}).returning(CodeAttempt.tries)
    return db.session.execute(stmt).scalar_one()


def _code_day(record: Record):
    """The China day a record's code counts against: the day the server received it."""
    return today_local(as_utc(record.received_at))


def prune_code_attempts(today, keep_days: int = 7) -> int:
    """Drop the wrong-code counts of days older than `keep_days` (only today's count is ever read); caller commits."""
    return db.session.execute(delete(CodeAttempt).where(CodeAttempt.day < today - timedelta(days=keep_days))).rowcount


def _code_locked(record: Record, village_id: int, code: str) -> Confirmation:
    """Too many wrong codes today: keep the code as typed, check nothing, and tell the principal."""
    c = Confirmation(record_id=record.id, method="code", outcome="locked", comment=code)
    db.session.add(c)
    _alert_code_locked(record, village_id)
    return c


def _alert_code_locked(record: Record, village_id: int) -> None:
    """Tell the school's principals once per teacher, village and day (no child named: push may show it)."""
    author, village = db.session.get(User, record.author_id), db.session.get(Village, village_id)
    day = _code_day(record)
    text = _("%(teacher)s 今天为%(village)s填写的村干部口令已错 %(n)d 次，今天再为该村填写的口令不再核对，"
             "这些家访须由村干部在待确认列表里确认。请查看这位教师的家访记录。",
             teacher=author.name, village=village.name, n=CODE_WRONG_PER_DAY)
    for principal_id in principal_ids(record.school_id):
        notify(principal_id, f"code_locked:{author.id}:{village_id}:{day.isoformat()}", "code_locked", text,
               f"/review/?teacher={author.id}&village={village_id}")


def add_signature(record: Record, photo_id: int | None, signed_by: str | None) -> Confirmation:
    """A signature drawn on the teacher's screen: weaker evidence than the member's own confirmation."""
    c = Confirmation(record_id=record.id, method="signature", outcome="signed", photo_id=photo_id,
                     comment=(signed_by or "")[:200] or None)
    db.session.add(c)
    if record.confirm_state == "none":
        record.confirm_state = "signed"
    return c


def after_ingest(author: User, records: list[Record], own_photos: dict[str, int]) -> None:
    """What happens when records arrive: codes and signatures checked, corrections linked, flags computed.

    `own_photos` maps the author's uploads named by the batch (sha256 -> Photo id), looked up once by the caller."""
    for r in records:
        f = r.fields or {}
        original = db.session.get(Record, r.corrects_id) if r.corrects_id else None
        if r.kind in CONFIRMED_KINDS:
            if f.get("confirm_code") and not _inherited(original, f, "confirm_code"):
                check_code(r, f["confirm_code"])
            if f.get("signature") and not _inherited(original, f, "signature"):
                add_signature(r, own_photos.get(f["signature"]), f.get("signed_by"))
            if original is not None:
                inherit_evidence(r, original)
        if original is not None:
            original.review_state = "corrected"
            db.session.add(ReviewEvent(record_id=original.id, by_id=author.id, action="correct",
                                       comment=_("更正记录 #%(id)d", id=r.id)))
    db.session.flush()
    evidence.refresh_new(records)


def _inherited(original: Record | None, fields: dict, name: str) -> bool:
    """The correction repeats the original's code or signature: the same evidence, not a new one (checking the code
    again would find its step used by the original and call it replayed)."""
    return original is not None and (original.fields or {}).get(name) == fields.get(name)


def inherit_evidence(correction: Record, original: Record) -> None:
    """A correction re-describes the same visit: it keeps the original's committee confirmation or signature.

    A dispute stays a dispute; a confirmation beats a signature, whichever record holds it. The evidence checks read
    the original's Confirmation rows too (evidence.Context), so its code and signature show as this visit's."""
    rank = {"none": 0, "signed": 1, "confirmed": 2, "disputed": 3}
    if rank.get(original.confirm_state, 0) > rank.get(correction.confirm_state, 0):
        correction.confirm_state = original.confirm_state


def correction_error(author: User, corrects_id, kind: str, child_id) -> str | None:
    """Why a record may not correct `corrects_id`, or None: only the author's own returned record."""
    if corrects_id is None:
        return None
    original = db.session.get(Record, corrects_id) if db_id(corrects_id) else None
    if original is None or original.author_id != author.id:
        return _("要更正的记录不存在，或不是您写的。")
    if original.kind != kind or original.child_id != child_id:
        return _("更正记录必须与原记录是同一个学生、同一种类。")
    if original.review_state != "returned":
        return _("只有被退回的记录才能更正。")
    return None


# --- committee queue ----------------------------------------------------------------------------------------------

def confirm(record: Record, member: User, agree: bool, comment: str | None) -> Confirmation:
    """A committee member confirms or disputes a visit from their queue."""
    comment = (comment or "").strip()[:1000] or None
    if not agree and not comment:
        raise VerifyError(_("提出异议时请写明原因。"))
    c = Confirmation(record_id=record.id, by_id=member.id, method="queue",
                     outcome="confirmed" if agree else "disputed", comment=comment)
    db.session.add(c)
    record.confirm_state = "confirmed" if agree else "disputed"
    db.session.flush()
    evidence.refresh(record)
    audit("confirm" if agree else "dispute", "record", record.id, user=member)
    return c


# --- principal review ---------------------------------------------------------------------------------------------

def approve(record: Record, principal: User, comment: str | None = None) -> ReviewEvent:
    if record.review_state != "received":
        raise VerifyError(_("这条记录不在待审核状态。"))
    record.review_state = "approved"
    ev = ReviewEvent(record_id=record.id, by_id=principal.id, action="approve", comment=(comment or "").strip()[:1000] or None)
    db.session.add(ev)
    audit("approve", "record", record.id, user=principal)
    return ev


def return_for_correction(record: Record, principal: User, comment: str | None) -> ReviewEvent:
    comment = (comment or "").strip()[:1000]
    if not comment:
        raise VerifyError(_("退回时请写明需要更正的内容。"))
    if record.review_state not in ("received", "approved"):
        raise VerifyError(_("这条记录已经退回或已更正。"))
    record.review_state = "returned"
    ev = ReviewEvent(record_id=record.id, by_id=principal.id, action="return", comment=comment)
    db.session.add(ev)
    db.session.flush()  # the event's time sets the correction deadline
    returns.notify_author(record, ev)
    audit("return", "record", record.id, user=principal)
    return ev


def histories(records: list[Record]) -> dict[int, list[tuple]]:
    """Review steps and confirmations per record, oldest first: ("review" | "confirm", at, row), two queries in all."""
    ids = [r.id for r in records]
    out: dict[int, list[tuple]] = {i: [] for i in ids}
    if not ids:
        return out
    for e in db.session.scalars(select(ReviewEvent).where(ReviewEvent.record_id.in_(ids))
                                .options(selectinload(ReviewEvent.by))):
        out[e.record_id].append(("review", e.at, e))
    for c in db.session.scalars(select(Confirmation).where(Confirmation.record_id.in_(ids))
                                .options(selectinload(Confirmation.by), selectinload(Confirmation.photo))):
        out[c.record_id].append(("confirm", c.at, c))
    for steps in out.values():
        steps.sort(key=lambda s: (as_utc(s[1]), s[2].id))
    return out


def history(record: Record) -> list[tuple]:
    """One record's steps (see `histories`)."""
    return histories([record])[record.id]


def returned_count(user: User) -> int:
    """How many of the user's own records wait for their correction (the "returned to me" badge)."""
    return db.session.scalar(select(func.count()).select_from(Record).where(
        Record.author_id == user.id, Record.review_state == "returned", Record.school_id == user.school_id)) or 0


def verification_of(user: User, record: Record) -> dict:
    """What the record page shows `user` about the record's checks, review and corrections."""
    sees = may_see_evidence(user, record)
    corrections = db.session.scalars(select(Record).where(Record.corrects_id == record.id).order_by(Record.id)).all()
    corrects = (db.session.scalar(records_query(user).where(Record.id == record.corrects_id))
                if record.corrects_id else None)
    ret = returns.latest_returns([record.id]).get(record.id) if record.review_state == "returned" else None
    return {
        "deadline": returns.deadline_of(ret.at) if ret else None, "today": today_local(),
        "sees": sees, "flags": evidence.explained(record.flags) if sees else [],
        "history": history(record) if may_see_history(user, record) else [],
        "corrects": corrects,
        "corrections": [c for c in corrections if sees],
    }
