"""A survey is a record of kind "survey" (offline capture, outbox, photos, idempotency come from the records pipeline);
on ingest each field whose new value differs from the value the phone saw becomes a SurveyChange. The principal applies
or rejects each through the file's services (history source "survey"). A change is a conflict when the file moved since
the phone saw it, or another pending change proposes the same field of the same child: never applied by "apply all".
New children found in the field come the same way (kind "new_child", no child yet) and become ChildProposals."""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..access import can
from ..children.history import as_text
from ..children.services import FileError, create_child, save_guardian, set_pairings, update_child
from ..clock import CHINA, utcnow
from ..extensions import db
from ..models import Child, ChildProposal, Photo, Record, RecordPhoto, SurveyChange, User, Village
from ..records.kinds import NEW_CHILD as NEW_CHILD_KIND
from ..records.kinds import SURVEY, clean_fields

NEW_CHILD = NEW_CHILD_KIND.name
PHOTO = "photo"
FIELDS = [f for f in SURVEY.fields if not f.name.startswith("base.")]
LABELS = {f.name: f.label for f in FIELDS} | {PHOTO: _l("孩子的照片")}
# A file cannot lose these (the child's situation, a person's name): an empty answer is no proposal.
NOT_CLEARED = {"parents_away", "father.name", "mother.name", "guardian.name"}
WHO = {"father": _l("父亲"), "mother": _l("母亲"), "guardian": _l("委托监护人")}


# --- the file's values, as the survey names them --------------------------------------------------------------------

def _guardian(child: Child, role: str):
    return next((g for g in child.guardians if g.role == role), None)


def current_value(child: Child, field: str) -> str | None:
    """The file's value of a survey field now, as text (history.as_text)."""
    if field == PHOTO:
        return child.photo_sha256
    if "." in field:
        role, attr = field.split(".", 1)
        g = _guardian(child, role)
        return as_text(getattr(g, attr)) if g else None
    return as_text(getattr(child, field))


def file_values(child: Child) -> dict:
    """What the phone's survey form shows and sends back as the base of each field."""
    return {f.name: current_value(child, f.name) for f in FIELDS}


# --- taking surveys in ------------------------------------------------------------------------------------------------

def surveys_received(author: User, records: list[Record]) -> None:
    """Turn each new survey record into its proposals; the file's survey date moves to the survey's day."""
    for r in records:
        if r.kind != SURVEY.name:
            continue
        child = db.session.get(Child, r.child_id)
        rows = []
        for f in FIELDS:
            new, base = as_text(r.fields.get(f.name)), as_text(r.fields.get(f"base.{f.name}"))
            if new != base and not (new is None and f.name in NOT_CLEARED):
                rows.append(SurveyChange(record_id=r.id, child_id=r.child_id, school_id=r.school_id, field=f.name,
                                         base=base, new=new, state="pending"))
        photo = db.session.scalar(select(Photo.sha256).join(RecordPhoto, RecordPhoto.photo_id == Photo.id)
                                  .where(RecordPhoto.record_id == r.id).order_by(RecordPhoto.position).limit(1))
        if photo and photo != child.photo_sha256:
            rows.append(SurveyChange(record_id=r.id, child_id=r.child_id, school_id=r.school_id, field=PHOTO,
                                     base=child.photo_sha256, new=photo, state="pending"))
        db.session.add_all(rows)
        day = r.occurred_at.astimezone(CHINA).date()
        if child.surveyed_on is None or child.surveyed_on < day:
            update_child(child, {"surveyed_on": day}, author, source="survey", source_id=r.id)


def propose_child(author: User, cid: str, item: dict) -> dict:
    """Store a new child proposed from the field (idempotent by the phone's id); one result as ingest answers it."""
    rejected = lambda errors: {"id": cid, "status": "rejected", "errors": errors}  # noqa: E731
    if not can(author, "survey_children"):
        return rejected({"kind": _("您的角色不能填写此类记录。")})
    owner = db.session.scalar(select(ChildProposal.author_id).where(ChildProposal.client_id == cid))
    if owner is not None:
        return {"id": cid, "status": "duplicate"} if owner == author.id else rejected({"id": _("此 id 已被另一条记录使用。")})
    fields, errors = clean_fields(NEW_CHILD_KIND, item.get("fields", {}))
    errors = {f"fields.{k}": v for k, v in errors.items()}
    try:
        if "consented_on" in fields:
            fields["consented_on"] = date.fromisoformat(fields["consented_on"]).isoformat()
    except ValueError:
        errors["fields.consented_on"] = _("日期格式应为 2026-09-01。")
    village = fields.get("village_id")
    if village is not None and db.session.scalar(select(Village.id).where(Village.id == village,
                                                                          Village.school_id == author.school_id)) is None:
        errors["fields.village_id"] = _("所选村不属于本校。")
    if errors:
        return rejected(errors)
    try:
        with db.session.begin_nested():
            db.session.add(ChildProposal(client_id=cid, school_id=author.school_id, author_id=author.id, fields=fields,
                                         state="pending"))
            db.session.flush()
    except IntegrityError:  # the same proposal, sent by a concurrent request a moment ago
        return {"id": cid, "status": "duplicate"}
    return {"id": cid, "status": "created"}


# --- the principal's review -------------------------------------------------------------------------------------------

def conflicts(changes: list[SurveyChange]) -> dict[int, list[str]]:
    """Why each pending change is a conflict: "moved" (the file changed since the phone saw it), "twin" (another
    pending change for the same field of the same child)."""
    pending = [c for c in changes if c.state == "pending"]
    keys = {(c.child_id, c.field) for c in pending}
    counts = dict(((cid, f), n) for cid, f, n in db.session.execute(
        select(SurveyChange.child_id, SurveyChange.field, func.count())
        .where(SurveyChange.state == "pending", SurveyChange.child_id.in_({k[0] for k in keys}))
        .group_by(SurveyChange.child_id, SurveyChange.field))) if keys else {}
    out = {}
    for c in pending:
        why = []
        if c.base != current_value(c.child, c.field):
            why.append("moved")
        if counts.get((c.child_id, c.field), 0) > 1:
            why.append("twin")
        out[c.id] = why
    return out


def _write(child: Child, field: str, value: str | None, by: User, source_id: int) -> None:
    if field == PHOTO:
        from ..children.history import record_changes

        record_changes(child, [("photo_sha256", child.photo_sha256, value)], by, "survey", source_id)
        child.photo_sha256 = value
        return
    if "." not in field:
        update_child(child, {field: value}, by, source="survey", source_id=source_id)
        return
    role, attr = field.split(".", 1)
    g = _guardian(child, role)
    if g is not None:
        save_guardian(child, {attr: value}, by, guardian=g, source="survey", source_id=source_id)
        return
    # No entry for this parent or guardian yet: make one, named by the same survey when it says, else by the role.
    name = value if attr == "name" else db.session.scalar(
        select(SurveyChange.new).where(SurveyChange.record_id == source_id, SurveyChange.field == f"{role}.name"))
    save_guardian(child, {"role": role, "name": name or str(WHO[role]), attr: value}, by, source="survey",
                  source_id=source_id)


def apply_change(change: SurveyChange, by: User, seen: str | None | bool = False) -> None:
    """Write one proposed value into the file (history source survey). `seen`, when given, is the file's value the
    principal's page showed: if the file moved meanwhile nothing is written. Other pending proposals for the same
    field are superseded: applying one decides."""
    if change.state != "pending":
        raise FileError(_("这项修改已经处理过了。"))
    if seen is not False and (seen or None) != current_value(change.child, change.field):
        raise FileError(_("档案刚刚被修改过，请重新核对后再决定。"))
    _write(change.child, change.field, change.new, by, change.record_id)
    now = utcnow()
    change.state, change.decided_by_id, change.decided_at = "applied", by.id, now
    for other in db.session.scalars(select(SurveyChange).where(
            SurveyChange.child_id == change.child_id, SurveyChange.field == change.field,
            SurveyChange.state == "pending", SurveyChange.id != change.id)):
        other.state, other.decided_by_id, other.decided_at = "superseded", by.id, now
    db.session.flush()


def reject_change(change: SurveyChange, by: User) -> None:
    """Keep the file as it is for this field."""
    if change.state != "pending":
        raise FileError(_("这项修改已经处理过了。"))
    change.state, change.decided_by_id, change.decided_at = "rejected", by.id, utcnow()


def decide_all(changes: list[SurveyChange], by: User, apply: bool) -> tuple[int, int]:
    """Apply (or reject) every pending change of a survey; conflicts are left for a decision one by one.
    Returns (done, left)."""
    why = conflicts(changes)
    done = left = 0
    for c in changes:
        if c.state != "pending":
            continue
        if apply and why.get(c.id):
            left += 1
            continue
        (apply_change if apply else reject_change)(c, by)
        done += 1
    return done, left


def create_from_proposal(p: ChildProposal, by: User, student_no: str) -> Child:
    """Create the file a teacher proposed, with the guardian's consent as recorded in the field; the proposing teacher
    becomes the responsible teacher (they found the child and know the family)."""
    if p.state != "pending":
        raise FileError(_("这项修改已经处理过了。"))
    f = p.fields
    child = create_child(
        p.school_id,
        {"student_no": student_no, "name": f["name"], "sex": f["sex"], "class_name": f.get("class_name"),
         "village_id": f.get("village_id"), "parents_away": f.get("parents_away", "both")},
        {"role": "guardian", "name": f["guardian_name"], "relationship_": f.get("guardian_relationship"),
         "phone": f.get("guardian_phone")},
        {"consented_on": date.fromisoformat(f["consented_on"]), "notice_version": f["notice_version"]}, by)
    author = db.session.get(User, p.author_id)
    if author is not None and author.active and author.role == "teacher" and author.school_id == p.school_id:
        set_pairings(child, [author.id], author.id, by)
    p.state, p.child_id, p.decided_by_id, p.decided_at = "applied", child.id, by.id, utcnow()
    return child


def reject_proposal(p: ChildProposal, by: User) -> None:
    """No file for this proposal."""
    if p.state != "pending":
        raise FileError(_("这项修改已经处理过了。"))
    p.state, p.decided_by_id, p.decided_at = "rejected", by.id, utcnow()


def phone_survey(user: User, children: list[Child]) -> dict:
    """The roster's part for a teacher who surveys: per child the file's values the form shows (prefilled, and sent
    back as each field's base) and whether this term's survey is done; for the school the term and its villages
    (the new-child form)."""
    from ..clock import today_local
    from .progress import survey_term, surveyed_ids

    term = survey_term(user.school_id, today_local())
    done = surveyed_ids(term[1], [c.id for c in children]) if term else set()
    villages = db.session.execute(select(Village.id, Village.name).where(Village.school_id == user.school_id)
                                  .order_by(Village.name)).all()
    return {
        "school": {"term": term[0] if term else None, "villages": [{"id": i, "name": n} for i, n in villages]},
        "children": {c.id: {"file": file_values(c), "surveyed": c.id in done} for c in children},
    }
