"""Taking records in: one function for the sync API and the online forms.

Every record is answered on its own (created / duplicate / missing_photos / rejected); a batch never fails whole.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask_babel import gettext as _
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from ..access import child_ids_query, may_read_content
from ..activities import services as activities
from ..clock import parse_local_time, utcnow
from ..extensions import db
from ..models import AuditEntry, Child, Record, RecordPhoto, User
from ..photos.services import SHA_RE, own_photo_ids
from .counselling import alert_high_risk
from ..children.pairing_history import paired_at, spans_of
from ..held import services as held
from ..web import db_id, uuid_text
from .kinds import KINDS, clean_fields, from_old_phone

FUTURE_SLACK = timedelta(minutes=10)
OLDEST = timedelta(days=400)
MAX_PHOTOS = 20


def _clean_location(value, errors: dict):
    if value is None:
        return None
    try:
        lat, lon = float(value["lat"]), float(value["lon"])
        acc = value.get("accuracy_m")
        acc = None if acc is None else float(acc)
    except (TypeError, ValueError, KeyError, OverflowError):
        errors["location"] = _("位置应为 {lat, lon, accuracy_m}。")
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (acc is not None and acc < 0):
        errors["location"] = _("位置超出范围。")
        return None
    return lat, lon, acc


def _check(author: User, item, visible_children: set[int], now: datetime):
    """Validate one record's shape; return (values, errors)."""
    errors: dict = {}
    if not isinstance(item, dict):
        return None, {"record": _("每条记录应为对象。")}
    kind = KINDS.get(item.get("kind")) if isinstance(item.get("kind"), str) else None
    if kind is None:
        errors["kind"] = _("未知的记录类型。")
    elif author.role not in kind.writers:
        errors["kind"] = _("您的角色不能填写此类记录。")
    child_id = item.get("child_id")
    group = kind is not None and kind.group  # an activity names its children in its attendance
    if group:
        child_id = None
    elif db_id(child_id) is None or child_id not in visible_children:
        errors["child_id"] = _("未知的学生，或不是您结对的学生。")
    occurred = parse_local_time(item.get("occurred_at"))
    if occurred is None:
        errors["occurred_at"] = _("时间格式应为 ISO 8601，例如 2026-11-20T15:04:00+08:00。")
    elif occurred > now + FUTURE_SLACK:
        errors["occurred_at"] = _("时间不能晚于现在。") + (_phone_clock(item, now) or "")
    elif occurred < now - OLDEST:
        errors["occurred_at"] = _("时间太早，超过一年前的记录请联系学校补录。")
    fields = {}
    if kind is not None:
        fields, field_errors = clean_fields(kind, item.get("fields", {}))
        errors.update({f"fields.{k}": v for k, v in field_errors.items()})
    photos = item.get("photos") or []
    if not isinstance(photos, list) or len(photos) > MAX_PHOTOS or not all(isinstance(p, str) and SHA_RE.match(p) for p in photos):
        errors["photos"] = _("photos 应为不超过 %(n)d 个 SHA-256（小写十六进制）的列表。", n=MAX_PHOTOS)
        photos = []
    location = _clean_location(item.get("location"), errors)
    meta = item.get("client")
    if meta is not None and (not isinstance(meta, dict) or len(str(meta)) > 500):
        errors["client"] = _("client 应为简短的对象。")
    corrects_id = item.get("corrects_id")
    if corrects_id is not None and kind is not None and not errors:
        from ..verify.services import correction_error

        why = correction_error(author, corrects_id, kind.name, child_id)
        if why:
            errors["corrects_id"] = why
    values = None if occurred is None else {
        "kind": kind.name if kind else None, "child_id": child_id, "occurred_at": occurred.astimezone(timezone.utc),
        "fields": fields, "photos": list(dict.fromkeys(photos)), "location": location, "client_meta": meta,
        "corrects_id": db_id(item.get("corrects_id")),
    }
    if group and values is not None:
        from ..activities.services import check as check_activity

        errors.update(check_activity(values, item.get("fields"), visible_children))
    if kind is not None and kind.name == "follow_up" and fields.get("source_id") and not errors:
        from ..followups.services import source_error

        why = source_error(author, fields["source_id"], child_id)
        if why:
            errors["fields.source_id"] = why
    if errors:
        return None, errors
    return values, None


def _phone_clock(item: dict, now: datetime) -> str | None:
    """What the phone's clock was off by when it sent the record (the client's sent_at), if it was off."""
    from ..devices.services import clock_note

    meta = item.get("client")
    return clock_note(parse_local_time(meta.get("sent_at"), naive=None), now) if isinstance(meta, dict) else None


def ingest(author: User, items: list, source: str = "api", also_visible: frozenset | set = frozenset()) -> list[dict]:
    """Store a batch of records for `author`; return one result per record, in order. `also_visible`: children the
    principal decided this author's (held) records may name."""
    now = utcnow()
    items = [from_old_phone(i) for i in items]
    results: list[dict | None] = [None] * len(items)
    ids = [uuid_text(i.get("id")) if isinstance(i, dict) else None for i in items]
    existing = dict(db.session.execute(select(Record.client_id, Record.author_id).where(Record.client_id.in_([i for i in ids if i]))).all())
    existing |= activities.existing([i for i, item in zip(ids, items) if i and activities.is_group(item)])
    wanted_children = {db_id(i.get("child_id")) for i in items if isinstance(i, dict)} - {None}
    wanted_children |= {c for i in items if activities.is_group(i) for c in activities.wanted_children(i)}
    visible = set(db.session.scalars(child_ids_query(author).where(Child.id.in_(wanted_children)))) if wanted_children else set()
    visible |= set(also_visible) & wanted_children
    # A child no longer the author's: the pairing history says whether they had it when the record was made.
    history = spans_of(author, wanted_children - visible)
    held_ids = set() if also_visible else held.known([i for i in ids if i])
    wanted_photos = {p for i in items if isinstance(i, dict) and isinstance(i.get("photos"), list) for p in i["photos"] if isinstance(p, str)}
    wanted_photos |= {i["fields"]["signature"] for i in items if isinstance(i, dict) and isinstance(i.get("fields"), dict)
                      and isinstance(i["fields"].get("signature"), str)}
    # Photos and signatures alike: uploads are idempotent by content, so a signature may be bytes the author first
    # sent as a photo (the phone cannot upload them again). One query for the whole batch.
    own_photos = own_photo_ids(author, wanted_photos)

    from ..surveys.services import NEW_CHILD, propose_child, surveys_received
    from ..verify.services import after_ingest

    todo: list[tuple[int, str, dict]] = []
    seen_in_batch: set[str] = set()
    newly_held = False
    for n, (cid, item) in enumerate(zip(ids, items)):
        if cid is None:
            sent = item.get("id") if isinstance(item, dict) else None
            # Echo what the phone sent, so it can match the answer: a string, cut short; nothing else.
            results[n] = {"id": sent[:64] if isinstance(sent, str) else None, "status": "rejected",
                          "errors": {"id": _("id 必须是手机生成的 UUID。")}}
            continue
        if isinstance(item, dict) and item.get("kind") == NEW_CHILD:
            results[n] = propose_child(author, cid, item)  # not a record: it has no child yet
            continue
        if cid in existing or cid in seen_in_batch:
            owner = existing.get(cid, author.id)
            results[n] = {"id": cid, "status": "duplicate"} if owner == author.id else \
                {"id": cid, "status": "rejected", "errors": {"id": _("此 id 已被另一条记录使用。")}}
            continue
        if cid in held_ids:
            results[n] = held.result(cid)
            continue
        child = db_id(item.get("child_id")) if isinstance(item, dict) and not activities.is_group(item) else None
        hold = False
        if child in history:
            when = parse_local_time(item.get("occurred_at"))
            hold = when is not None and not paired_at(history[child], when)
        values, errors = _check(author, item, visible | ({child} if child in history else set()), now)
        if errors:
            results[n] = {"id": cid, "status": "rejected", "errors": errors}
            continue
        missing = [p for p in values["photos"] if p not in own_photos]
        signature = values["fields"].get("signature")
        if signature and signature not in own_photos:
            missing.append(signature)
        if missing:
            results[n] = {"id": cid, "status": "missing_photos", "errors": {"photos": missing}}
            continue
        seen_in_batch.add(cid)
        if hold:
            results[n] = held.hold(author, cid, item, child, now)
            newly_held = True
            continue
        if activities.is_group(item):
            results[n] = activities.store(author, cid, values, own_photos, now, source)
            continue
        todo.append((n, cid, values))

    if todo:
        created = _store(author, todo, own_photos, now, source, results)
        if created:
            after_ingest(author, created, own_photos)
            alert_high_risk(created)  # created only: a resent note (duplicate) never alerts again
            surveys_received(author, created)
            from ..followups.services import from_records

            from_records(created)
    if newly_held:
        held.tell_deciders(author.school_id)  # once per request, however many it held
    db.session.commit()
    return results


def _rows(author: User, cid: str, v: dict, now: datetime, source: str) -> Record:
    loc = v["location"] or (None, None, None)
    return Record(
        client_id=cid, kind=v["kind"], child_id=v["child_id"], author_id=author.id, school_id=author.school_id,
        occurred_at=v["occurred_at"], received_at=now, fields=v["fields"], lat=loc[0], lon=loc[1], accuracy_m=loc[2],
        client_meta=v["client_meta"], source=source, corrects_id=v["corrects_id"],
    )


def _store(author, todo, own_photos, now, source, results) -> list[Record]:
    """Insert all new records at once; if a concurrent post won a race, fall back to one at a time."""
    try:
        with db.session.begin_nested():
            records = [_rows(author, cid, v, now, source) for _n, cid, v in todo]
            db.session.add_all(records)
            db.session.flush()
            _link_photos_and_audit(author, records, todo, own_photos, now)
        for (n, cid, _v) in todo:
            results[n] = {"id": cid, "status": "created"}
        return records
    except IntegrityError:
        pass
    created = []
    for n, cid, v in todo:
        try:
            with db.session.begin_nested():
                record = _rows(author, cid, v, now, source)
                db.session.add(record)
                db.session.flush()
                _link_photos_and_audit(author, [record], [(n, cid, v)], own_photos, now)
            results[n] = {"id": cid, "status": "created"}
            created.append(record)
        except IntegrityError:
            # The unique client id: another request stored this record a moment ago.
            owner = db.session.scalar(select(Record.author_id).where(Record.client_id == cid))
            results[n] = {"id": cid, "status": "duplicate"} if owner == author.id else \
                {"id": cid, "status": "rejected", "errors": {"id": _("此 id 已被另一条记录使用。")}}
    return created


def _link_photos_and_audit(author, records, todo, own_photos, now) -> None:
    links = [
        {"record_id": r.id, "photo_id": own_photos[sha], "position": pos}
        for r, (_n, _cid, v) in zip(records, todo) for pos, sha in enumerate(v["photos"])
    ]
    if links:
        db.session.execute(insert(RecordPhoto), links)
    db.session.execute(insert(AuditEntry), [
        {"at": now, "user_id": author.id, "school_id": author.school_id, "action": "create", "object_type": "record", "object_id": str(r.id)}
        for r in records
    ])


def record_summary(reader: User, record: Record, length: int = 80) -> str:
    """A one-line summary of a record for lists; nothing of a record whose content `reader` may not read."""
    if not may_read_content(reader, record):
        return _("内容保密，仅心理辅导教师可以查看。")
    f = record.fields or {}
    parts = [f.get(k) for k in ("purpose", "topic", "title", "summary", "told_guardian") if f.get(k)]
    text = " — ".join(parts)
    return text if len(text) <= length else text[: length - 1] + "…"
