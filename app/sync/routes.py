"""The sync API of shared/docs/sync-contract.md: roster and records (photos: app/photos/routes.py)."""
from __future__ import annotations

import json

from flask import Response, current_app, request
from flask_babel import get_locale, gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..access import can, children_query, school_staff_required
from ..clock import today_local
from ..extensions import db
from ..models import DUTY_KINDS, Child, Record
from ..records.services import MAX_PHOTOS, ingest
from ..surveys.services import phone_survey
from ..verify.returns import phone_returned, phone_reviews
from ..web import api_error, json_body
from . import bp
from .stamp import roster_etag


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
    ids = [c.id for c in children]
    writes = can(user, "write_records")
    last = {}
    if children:
        rows = db.session.execute(
            select(Record.child_id, Record.kind, func.max(Record.occurred_at))
            .where(Record.school_id == user.school_id, Record.child_id.in_(ids),
                   Record.kind.in_(DUTY_KINDS))
            .group_by(Record.child_id, Record.kind)
        )
        for child_id, kind, at in rows:
            last.setdefault(child_id, {})[kind] = at if isinstance(at, str) else at.isoformat() if at else None
    school = user.school
    duties, owned = None, {}
    if can(user, "keep_duties"):
        # What is due, computable on the phone: the server's periods and counts so far (the app adds the records
        # waiting in its outbox, so a visit recorded offline clears its duty at once).
        from ..duties.services import owned_rules, phone_plan

        duties = phone_plan(user.school_id, today_local(), ids)
        owned = owned_rules(user, ids)
    # The caller's own records: returned ones with what a correction needs, and each child's latest review states.
    reviews = phone_reviews(user, ids) if writes else {}
    survey = phone_survey(user, children) if can(user, "survey_children") else None
    return {
        "school": {"name": school.name, "hotline": school.hotline} if school else None,
        "duties": duties,
        "follow_ups": _follow_ups(user),
        # The server's own limits, so the phone enforces them before the record is refused.
        "limits": {"photos_per_record": MAX_PHOTOS},
        "returned": phone_returned(user) if writes else [],
        **({"survey": survey["school"]} if survey else {}),
        "children": [
            {
                "id": c.id, "name": c.name, "class_name": c.class_name, "grade": c.grade,
                "village": {"id": c.village.id, "name": c.village.name} if c.village else None,
                "address": c.address,
                "guardian": _person(c.entrusted_guardian),
                "parents": [{"role": p.role, "name": p.name, "phone": p.phone, "work_place": p.work_place} for p in c.parents()],
                "responsible_teacher": (lambda t: {"name": t.name, "phone": t.phone} if t else None)(c.responsible_teacher),
                "last": last.get(c.id, {}),
                "reviews": reviews.get(c.id, []),
                **(survey["children"][c.id] if survey else {}),
                # The keys of the duty rules whose duty for this child is on the caller's list (a rule's owner).
                "duties": owned.get(c.id, []),
            }
            for c in children
        ],
    }


def _follow_ups(user) -> list[dict]:
    """The caller's open follow-ups for the phone's to-do list (what only when they may read it)."""
    from ..access import may_read_follow_up
    from ..followups.services import open_for

    if not can(user, "see_attention"):
        return []
    return [{"id": f.id, "child_id": f.child_id, "due_on": f.due_on.isoformat(),
             "what": f.what if may_read_follow_up(user, f) else None} for f in open_for(user)]


@bp.route("/roster")
@school_staff_required
def roster():
    # The stamp first, then the roster: a change committed in between is in the body and makes the next ask miss.
    etag = roster_etag(current_user, today_local(), get_locale())
    if etag in request.if_none_match:
        resp = Response(status=304)
    else:
        resp = Response(json.dumps(roster_for(current_user), ensure_ascii=False, separators=(",", ":"), sort_keys=True,
                                   default=str), mimetype="application/json")
    resp.set_etag(etag)
    resp.headers["Cache-Control"] = "private, no-cache"
    return resp


@bp.route("/records", methods=["POST"])
@school_staff_required
def records():
    items = json_body(error="not_json").get("records")
    if not isinstance(items, list):
        return api_error(400, "bad_request", _("需要 records 数组。"))
    limit = current_app.config["RECORDS_PER_BATCH"]
    if len(items) > limit:
        return api_error(400, "too_many_records", _("每批最多 %(n)d 条记录。", n=limit))
    return _json({"results": ingest(current_user, items)})
