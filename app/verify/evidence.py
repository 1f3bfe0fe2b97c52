"""Evidence checks: every rule and threshold in one place, each explained to the principal in plain Chinese.

Flags are computed on the server when a record arrives, when a committee member confirms it, and when a
village gets its location; they are stored on the record (`flags`, `score`) so the review queue can sort
the suspicious ones first without recomputing anything.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..clock import as_utc, parse_local_time
from ..extensions import db
from ..models import DUTY_KINDS, Child, Photo, Record, RecordPhoto, Village
from ..photos.pipeline import hamming
from ..photos.services import unsigned_phash

# --- thresholds -------------------------------------------------------------------------------------------------
REUSE_MAX_DISTANCE = 10          # dHash bits (of 64) that may differ for two photos to count as "the same picture"
REUSE_MIN_DETAIL_BITS = 8        # a near-flat picture (dark, lens covered) hashes to almost all 0s or 1s and would
                                 # "match" every other flat one: such photos count as reused only byte for byte
REUSE_LIST_AT_MOST = 5           # record ids the flag names (its "records")
PHOTO_TIME_MAX_GAP = timedelta(hours=3)    # EXIF capture time vs the visit's time
FAR_FROM_VILLAGE_KM = 3.0        # photo GPS / phone location vs the child's village
WRITTEN_LATE_AFTER = timedelta(hours=24)   # saved on the phone (or sent) this long after the visit
SAME_SYNC = timedelta(hours=1)   # records of one sync arrive minutes apart (photos re-sent, a second round): not "earlier"
UNREMARKABLE_MAX_SCORE = 10     # at most one minor flag (e.g. not yet confirmed): offered for bulk approval
CORRECTION_CHAIN_MAX = 5        # corrections of corrections whose original's confirmations are looked up
EVIDENCE_KINDS = DUTY_KINDS  # what counts as a duty is what the principal reviews; counselling notes are neither


@dataclass(frozen=True)
class Rule:
    code: str
    weight: int
    title: object
    explain: object
    kinds: tuple[str, ...] = EVIDENCE_KINDS


RULES = [
    Rule("photo_reused", 50, _l("照片重复使用"),
         _l("这张照片（或几乎一样的照片，例如重新压缩、稍作裁剪）已经出现在另一条记录里。同一张照片不能证明两次走访。")),
    Rule("photo_time_far", 25, _l("拍照时间与走访时间不符"),
         _l("照片里相机记录的拍摄时间与记录填写的走访时间相差超过 3 小时。")),
    Rule("photo_no_time", 10, _l("照片没有拍摄时间"),
         _l("照片里没有相机记录的拍摄时间（可能是截图、转发或处理过的图片），无法核对是不是走访时拍的。")),
    # Only a home visit happens at the child's village: talks are held at school and calls from anywhere.
    Rule("far_from_village", 25, _l("地点离孩子家所在村太远"),
         _l("照片的位置或手机记录的位置离孩子所在村超过 3 公里。"), ("home_visit",)),
    Rule("written_late", 15, _l("事后补写"),
         _l("记录在走访时间 24 小时以后才填写，可能是回到办公室后补写的。填写时间以手机记下的保存时间为准，但不晚于"
            "服务器收到的时间；如果走访一天以后，这位教师的手机已经同步过别的记录却没有同时发来这一条，说明这条当时"
            "还没有写，填写时间按那次同步算。一直没有信号、几天后才第一次同步的手机不受影响。")),
    Rule("no_photo", 20, _l("没有照片"), _l("家访记录没有附照片。照片是家访确实发生的主要证据；没有信号时离线记录也能拍照。"), ("home_visit",)),
    Rule("no_confirmation", 10, _l("村委会未确认"),
         _l("村委会还没有确认这次家访（现场口令、签名或在待确认列表里确认都可以）。"), ("home_visit",)),
    Rule("signature_only", 5, _l("只有签名确认"),
         _l("这次家访只有在教师手机上的签名，没有村干部本人的确认（口令或在待确认列表里确认），证明力较弱。"),
         ("home_visit",)),
    Rule("code_invalid", 30, _l("确认口令无效"),
         _l("教师填写的村干部口令与孩子所在村任何村干部在走访时段的口令都对不上。记录照常保存，但不能算作确认。"),
         ("home_visit",)),
    Rule("code_replayed", 40, _l("确认口令重复使用"),
         _l("同一个村干部口令已经用于另一次家访。每个口令只在几分钟内有效，两次走访不应得到同一个口令。"),
         ("home_visit",)),
    Rule("code_locked", 40, _l("口令输错太多，未核对"),
         _l("这位教师当天为这个村填写的村干部口令已经错了 5 次。为防止猜口令，当天再为该村填写的口令一律不核对，"
            "不能算作村干部确认，校长已收到提醒。请村干部在待确认列表里确认，或向教师了解情况。"),
         ("home_visit",)),
    Rule("disputed", 60, _l("村委会提出异议"), _l("村委会成员认为这次家访没有按记录发生，见其说明。"), ("home_visit",)),
]
RULES_BY_CODE = {r.code: r for r in RULES}


def km_between(lat1, lon1, lat2, lon2) -> float:
    """Great-circle distance (haversine), in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(min(1.0, math.sqrt(a)))


def _saved_at(record: Record) -> datetime:
    """When the record was written: the phone's saved time when it says so, else when the server got it."""
    meta = record.client_meta or {}
    # A saved time without an offset says nothing certain about when it was written.
    saved = parse_local_time(meta.get("saved_at"), naive=None) if isinstance(meta, dict) else None
    return saved or as_utc(record.received_at)


def _written_at(record: Record) -> datetime:
    """When the record was written, as far as the server can tell: the phone's saved time is a hint, bounded above by
    when the server got it and below by the author's last earlier sync (the phone was online then and did not send it).

    Syncs more than a day after the visit are the only ones that can matter, so most records need no query."""
    received = as_utc(record.received_at)
    written = min(_saved_at(record), received)
    if received - as_utc(record.occurred_at) <= WRITTEN_LATE_AFTER + SAME_SYNC:
        return written
    synced = db.session.scalar(select(func.max(Record.received_at)).where(
        Record.author_id == record.author_id, Record.source == "api", Record.received_at < received - SAME_SYNC))
    return max(written, as_utc(synced)) if synced is not None else written


class Context:
    """What the rules need about a batch of records, loaded with a few queries instead of several per record."""

    def __init__(self, records: list[Record]):
        from ..models import Confirmation

        ids = [r.id for r in records]
        self.photos: dict[int, list[Photo]] = {i: [] for i in ids}
        self.confirmations: dict[int, list] = {i: [] for i in ids}
        self._villages: dict[int, Village] | None = None
        self._children = {r.child_id for r in records}
        self._index: list[tuple[int, str, int]] | None = None
        self._school = records[0].school_id if records else None
        if not ids:
            return
        for rid, photo in db.session.execute(
                select(RecordPhoto.record_id, Photo).join(Photo, Photo.id == RecordPhoto.photo_id)
                .where(RecordPhoto.record_id.in_(ids)).order_by(RecordPhoto.record_id, RecordPhoto.position)):
            self.photos[rid].append(photo)
        visits = [r for r in records if r.kind == "home_visit"]
        if visits:
            # A correction re-describes the same visit: the confirmations of the records it corrects count as its own
            # (services.inherit_evidence), so a code typed at the visit still confirms it after a return.
            owners = {r.id: {r.id} for r in visits}  # record id whose confirmations count -> the visits they count for
            up: dict[int, set] = {}
            for r in visits:
                if r.corrects_id:
                    up.setdefault(r.corrects_id, set()).add(r.id)
            for _level in range(CORRECTION_CHAIN_MAX):
                if not up:
                    break
                for rid, below in up.items():
                    owners.setdefault(rid, set()).update(below)
                rows = db.session.execute(select(Record.id, Record.corrects_id).where(
                    Record.id.in_(list(up)), Record.corrects_id.is_not(None))).all()
                nxt: dict[int, set] = {}
                for rid, parent in rows:
                    nxt.setdefault(parent, set()).update(up[rid])
                up = nxt
            for c in db.session.scalars(select(Confirmation).where(Confirmation.record_id.in_(list(owners)))
                                        .order_by(Confirmation.id)):
                for rid in owners[c.record_id]:
                    self.confirmations[rid].append(c)

    def village(self, child_id: int) -> Village | None:
        """The child's village; the batch's villages are read at the first ask (a batch with no location needs none)."""
        if self._villages is None:
            self._villages = dict(db.session.execute(select(Child.id, Village).join(Village, Village.id == Child.village_id)
                                                     .where(Child.id.in_(self._children))).all())
        return self._villages.get(child_id)

    def school_photos(self) -> list[tuple[int, str, int]]:
        """(record id, sha256, unsigned dHash) of every evidence photo of the school, loaded once per batch."""
        if self._index is None:
            self._index = [(rid, sha, unsigned_phash(ph)) for rid, sha, ph in db.session.execute(
                select(RecordPhoto.record_id, Photo.sha256, Photo.phash)
                .join(Photo, Photo.id == RecordPhoto.photo_id)
                .join(Record, Record.id == RecordPhoto.record_id)
                .where(Record.school_id == self._school, Photo.kind == "photo"))]
        return self._index


def check(record: Record, ctx: Context | None = None) -> list[dict]:
    """All flags of one record, from what is stored now."""
    if record.kind not in EVIDENCE_KINDS:
        return []
    ctx = ctx or Context([record])
    flags: list[dict] = []

    def flag(code: str, detail: str = "", **data) -> None:
        if record.kind in RULES_BY_CODE[code].kinds and all(f["code"] != code for f in flags):
            flags.append({"code": code, "detail": detail, **data})

    occurred = as_utc(record.occurred_at)
    photos = ctx.photos.get(record.id, [])

    if record.kind == "home_visit" and not photos:
        flag("no_photo")
    for p in photos:
        if p.taken_at is None:
            flag("photo_no_time")
        elif abs(as_utc(p.taken_at) - occurred) > PHOTO_TIME_MAX_GAP:
            hours = abs(as_utc(p.taken_at) - occurred).total_seconds() / 3600
            flag("photo_time_far", f"{hours:.1f} h")
    points = [(p.gps_lat, p.gps_lon) for p in photos if p.gps_lat is not None and p.gps_lon is not None]
    if record.lat is not None and record.lon is not None:
        points.append((record.lat, record.lon))
    village = ctx.village(record.child_id) if points else None
    if village is not None and village.lat is not None and village.lon is not None:
        far = [km_between(lat, lon, village.lat, village.lon) for lat, lon in points]
        far = [d for d in far if d > FAR_FROM_VILLAGE_KM]
        if far:
            flag("far_from_village", f"{max(far):.1f} km")
    late = _written_at(record) - occurred
    if late > WRITTEN_LATE_AFTER:
        flag("written_late", f"{late.total_seconds() / 3600:.0f} h")
    reused = _reused_elsewhere(record, photos, ctx)
    if reused:
        ids = sorted(reused)
        more = len(ids) - REUSE_LIST_AT_MOST
        # The other records' ids as data (pages link them, refresh_new re-flags them); the detail only counts the rest.
        flag("photo_reused", f"+{more}" if more > 0 else "", records=ids[:REUSE_LIST_AT_MOST])
    if record.kind == "home_visit":
        confirmations = ctx.confirmations.get(record.id, [])
        if any(c.outcome == "disputed" for c in confirmations):
            flag("disputed")
        if record.confirm_state == "signed":
            flag("signature_only")
        elif record.confirm_state != "confirmed" and not any(f["code"] == "disputed" for f in flags):
            # A dispute already says the committee did not confirm: one flag, not two.
            flag("no_confirmation")
        for c in confirmations:
            if c.method == "code" and c.outcome == "invalid":
                flag("code_invalid")
            elif c.method == "code" and c.outcome == "replayed":
                flag("code_replayed")
            elif c.method == "code" and c.outcome == "locked":
                flag("code_locked")
    return flags


def _reused_elsewhere(record: Record, photos: list[Photo], ctx: Context) -> set[int]:
    """Ids of other records of the same school holding the same or a nearly identical photo.

    A correction and the record it corrects may share photos on purpose."""
    mine = [(p.sha256, unsigned_phash(p.phash)) for p in photos if p.kind == "photo"]
    if not mine:
        return set()
    fuzzy = [h for _s, h in mine if REUSE_MIN_DETAIL_BITS <= h.bit_count() <= 64 - REUSE_MIN_DETAIL_BITS]
    shas = {s for s, _h in mine}
    related = {record.id, record.corrects_id}
    hits = set()
    for rid, sha, other in ctx.school_photos():
        if rid in related or rid in hits:
            continue
        if sha in shas or any(hamming(h, other) <= REUSE_MAX_DISTANCE for h in fuzzy):
            hits.add(rid)
    if hits:  # corrections of this record
        hits -= set(db.session.scalars(select(Record.id).where(Record.corrects_id == record.id)))
    return hits


def score(flags: list[dict]) -> int:
    return sum(RULES_BY_CODE[f["code"]].weight for f in flags if f["code"] in RULES_BY_CODE)


def refresh(record: Record, ctx: Context | None = None) -> None:
    """Recompute and store a record's flags and score (the caller commits)."""
    record.flags = check(record, ctx)
    record.score = score(record.flags)


def refresh_all(records: list[Record]) -> None:
    """Recompute many records of one school with one Context (a village moved, a batch arrived)."""
    for i in range(0, len(records), 500):
        chunk = records[i:i + 500]
        ctx = Context(chunk)
        for r in chunk:
            refresh(r, ctx)


def refresh_village(village: Village) -> int:
    """Recompute the flags of the village's evidence records (the distance rule depends on its location)."""
    records = db.session.scalars(select(Record).where(
        Record.school_id == village.school_id, Record.kind.in_(EVIDENCE_KINDS),
        Record.child_id.in_(select(Child.id).where(Child.village_id == village.id)))).all()
    refresh_all(records)
    return len(records)


def refresh_new(records: list[Record]) -> None:
    """After records arrive: their own flags, and the flags of earlier records that share a photo with them."""
    if not records:
        return
    db.session.flush()
    ctx = Context(records)
    touched = {r.id for r in records}
    again: list[Record] = []
    for r in records:
        refresh(r, ctx)
        for f in r.flags:
            if f["code"] == "photo_reused":
                for rid in f.get("records", []):
                    if rid not in touched:
                        touched.add(rid)
                        other = db.session.get(Record, rid)
                        if other is not None:
                            again.append(other)
    if again:
        refresh_all(again)


def explained(flags: list[dict]) -> list[dict]:
    """Flags with their title and explanation, for pages."""
    out = []
    ids = {rid for f in flags or [] for rid in f.get("records") or []}
    # A reused photo names the other visits by child and date (a bare "#2" told the principal nothing).
    others = {r.id: r for r in db.session.scalars(select(Record).where(Record.id.in_(ids)))} if ids else {}
    for f in flags or []:
        rule = RULES_BY_CODE.get(f.get("code"))
        if rule:
            rids = list(f.get("records") or [])
            out.append({"code": rule.code, "title": str(rule.title), "explain": str(rule.explain),
                        "detail": f.get("detail") or "", "records": rids,
                        "others": [others[i] for i in rids if i in others], "weight": rule.weight})
    return sorted(out, key=lambda f: -f["weight"])
