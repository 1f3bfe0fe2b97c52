"""The sync API of shared/docs/sync-contract.md: roster, photos, records."""
from __future__ import annotations

import hashlib
import json

from flask import Response, current_app, request
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..access import children_query
from ..extensions import db
from ..models import Child, Record
from ..photo_quota import check_upload_quota
from ..photo_service import PhotoRejected, find_own, save_upload
from ..records.services import SHA_RE, ingest
from ..util import api_error
from . import bp

PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")
STATUS_FOR = {"not_an_image": 415, "image_rejected": 422, "too_large": 413}


def _json(body, status=200, **headers) -> Response:
    resp = Response(json.dumps(body, ensure_ascii=False, separators=(",", ":")), status=status, mimetype="application/json")
    resp.headers["Cache-Control"] = "private, no-cache"
    for k, v in headers.items():
        resp.headers[k.replace("_", "-")] = v
    return resp


def _person(g) -> dict | None:
    return None if g is None else {"name": g.name, "relationship": g.relationship_, "phone": g.phone}


def roster_for(user) -> dict:
    """What the phone needs offline about the children `user` may see."""
    q = children_query(user).where(Child.left_on.is_(None)).options(
        selectinload(Child.guardians), selectinload(Child.pairings), selectinload(Child.village)
    )
    children = db.session.scalars(q.order_by(Child.class_name, Child.name)).all()
    last = {}
    if children:
        rows = db.session.execute(
            select(Record.child_id, Record.kind, func.max(Record.occurred_at))
            .where(Record.school_id == user.school_id, Record.child_id.in_([c.id for c in children]),
                   Record.kind.in_(("home_visit", "talk", "parent_call")))
            .group_by(Record.child_id, Record.kind)
        )
        for child_id, kind, at in rows:
            last.setdefault(child_id, {})[kind] = at if isinstance(at, str) else at.isoformat() if at else None
    school = user.school
    duties = None
    if user.role == "teacher":
        # What is due, computable on the phone: rules with their current/previous windows, terms, and counts so far
        # (the app adds the records waiting in its outbox, so a visit recorded offline clears its duty at once).
        from ..duties.services import counts_for, plan, terms_for, today_local

        today = today_local()
        duties = {"today": today.isoformat(), "rules": plan(user.school_id, today),
                  "terms": [[n, s.isoformat(), e.isoformat()] for n, s, e in terms_for(user.school_id, today)],
                  "counts": {str(k): v for k, v in counts_for(
                      select(Child.id).where(Child.id.in_([c.id for c in children])), user.school_id, today).items()}}
    return {
        "school": {"name": school.name, "hotline": school.hotline} if school else None,
        "duties": duties,
        "children": [
            {
                "id": c.id, "name": c.name, "class_name": c.class_name, "grade": c.grade,
                "village": {"id": c.village.id, "name": c.village.name} if c.village else None,
                "address": c.address,
                "guardian": _person(c.entrusted_guardian),
                "parents": [{"role": p.role, "name": p.name, "phone": p.phone, "work_place": p.work_place} for p in c.parents()],
                "responsible_teacher": (lambda t: {"name": t.name, "phone": t.phone} if t else None)(c.responsible_teacher),
                "last": last.get(c.id, {}),
            }
            for c in children
        ],
    }


@bp.route("/roster")
@login_required
def roster():
    body = json.dumps(roster_for(current_user), ensure_ascii=False, separators=(",", ":"), sort_keys=True, default=str)
    etag = hashlib.sha256(body.encode()).hexdigest()[:32]
    if etag in request.if_none_match:
        resp = Response(status=304)
    else:
        resp = Response(body, mimetype="application/json")
    resp.set_etag(etag)
    resp.headers["Cache-Control"] = "private, no-cache"
    return resp


@bp.route("/photos/<sha256>", methods=["HEAD"])
@login_required
def photo_head(sha256):
    if not SHA_RE.match(sha256) or find_own(current_user, sha256) is None:
        return Response(status=404)
    return Response(status=200)


@bp.route("/photos/<sha256>", methods=["PUT"])
@login_required
def photo_put(sha256):
    if not SHA_RE.match(sha256):
        return api_error(400, "bad_hash", _("照片名应为 64 位小写十六进制的 SHA-256。"))
    limit = current_app.config["PHOTO_MAX_BYTES"]
    if request.content_length is not None and request.content_length > limit:
        return api_error(413, "too_large", _("照片太大（最多 %(mb)d MB）。", mb=limit // 2**20))
    data = request.get_data(cache=False)
    if len(data) > limit:
        return api_error(413, "too_large", _("照片太大（最多 %(mb)d MB）。", mb=limit // 2**20))
    if hashlib.sha256(data).hexdigest() != sha256:
        return api_error(400, "hash_mismatch", _("照片内容与其 SHA-256 不符，请重新上传。"))
    if find_own(current_user, sha256) is not None:
        return _json({"sha256": sha256, "status": "exists"})
    kind = "signature" if request.args.get("kind") == "signature" else "photo"
    over = check_upload_quota(current_user, len(data))
    if over is not None:
        return api_error(429, over.code, over.message)
    try:
        up = save_upload(current_user, sha256, data, kind=kind)
    except PhotoRejected as e:
        messages = {"not_an_image": _("不是 JPEG、PNG 或 WebP 图片。"), "too_large": _("照片太大。"),
                    "image_rejected": _("图片已损坏或尺寸过大，无法处理。")}
        return api_error(STATUS_FOR.get(e.code, 422), e.code, messages.get(e.code, str(e)), detail=e.reason)
    if not up.created:
        return _json({"sha256": sha256, "status": "exists"})
    return _json({"sha256": sha256, "status": "stored"}, 201)


@bp.route("/records", methods=["POST"])
@login_required
def records():
    data = request.get_json(silent=True) if request.is_json else None
    if data is None:
        return api_error(400, "not_json", _("请求体必须是 JSON：{\"records\": [...]}。"))
    items = data.get("records") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return api_error(400, "bad_request", _("需要 records 数组。"))
    limit = current_app.config["RECORDS_PER_BATCH"]
    if len(items) > limit:
        return api_error(400, "too_many_records", _("每批最多 %(n)d 条记录。", n=limit))
    return _json({"results": ingest(current_user, items)})
