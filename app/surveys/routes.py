"""The principal's review of surveys (/surveys/): each proposed field applied or rejected, new children created."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..access import child_proposals_query, requires, survey_changes_query
from ..audit import audit
from ..children.services import FileError
from ..extensions import db
from ..models import Child, ChildProposal, Record, SurveyChange, Village
from ..models.people import PARENTS_AWAY, SEXES
from ..web import EmptyForm, save_or_flash
from . import bp
from .services import (LABELS, PHOTO, apply_change, conflicts, create_from_proposal, current_value, decide_all,
                       reject_change, reject_proposal)

SURVEYS_PER_PAGE = 30


def _form_ok() -> None:
    if not EmptyForm().validate_on_submit():
        flash(_("表单已过期，请重新提交。"), "error")
        abort(redirect(url_for("surveys.index")))


@bp.route("/")
@requires("apply_surveys")
def index():
    pending = survey_changes_query(current_user).where(SurveyChange.state == "pending")
    record_ids = db.session.scalars(pending.with_only_columns(SurveyChange.record_id).distinct()
                                    .order_by(SurveyChange.record_id).limit(SURVEYS_PER_PAGE)).all()
    changes = db.session.scalars(pending.where(SurveyChange.record_id.in_(record_ids))
                                 .options(selectinload(SurveyChange.child).selectinload(Child.guardians))
                                 .order_by(SurveyChange.record_id, SurveyChange.id)).all()
    records = {r.id: r for r in db.session.scalars(select(Record).where(Record.id.in_(record_ids))
                                                   .options(selectinload(Record.author)))}
    surveys = []
    for rid in record_ids:
        rows = [c for c in changes if c.record_id == rid]
        surveys.append({"record": records[rid], "child": rows[0].child, "changes": rows})
    proposals = db.session.scalars(child_proposals_query(current_user).where(ChildProposal.state == "pending")
                                   .options(selectinload(ChildProposal.author)).order_by(ChildProposal.id)).all()
    villages = dict(db.session.execute(select(Village.id, Village.name)
                                       .where(Village.school_id == current_user.school_id)).all())
    return render_template("surveys/index.html", surveys=surveys, why=conflicts(changes), labels=LABELS,
                           current={c.id: current_value(c.child, c.field) for c in changes}, PHOTO=PHOTO,
                           proposals=proposals, villages=villages, form=EmptyForm(), PARENTS_AWAY_WORDS=PARENTS_AWAY,
                           SEX_WORDS=SEXES)


def _change(change_id: int) -> SurveyChange:
    change = db.session.scalar(survey_changes_query(current_user).where(SurveyChange.id == change_id))
    if change is None:
        abort(404)
    return change


@bp.route("/changes/<id:change_id>/<action>", methods=["POST"])
@requires("apply_surveys")
def decide(change_id, action):
    if action not in ("apply", "reject"):
        abort(404)
    change = _change(change_id)
    _form_ok()
    if action == "apply":
        seen = request.form.get("seen", "")
        save_or_flash(lambda: apply_change(change, current_user, seen), _("已写入档案。"), FileError)
    else:
        save_or_flash(lambda: reject_change(change, current_user), _("已不采纳，档案保持不变。"), FileError)
    return redirect(url_for("surveys.index"))


@bp.route("/record/<id:record_id>/<action>", methods=["POST"])
@requires("apply_surveys")
def decide_survey(record_id, action):
    if action not in ("apply", "reject"):
        abort(404)
    changes = db.session.scalars(survey_changes_query(current_user).where(SurveyChange.record_id == record_id)
                                 .order_by(SurveyChange.id)).all()
    if not changes:
        abort(404)
    _form_ok()
    saved, result = save_or_flash(lambda: decide_all(changes, current_user, action == "apply"),
                                  _("已处理。"), FileError)
    if saved and result[1]:
        flash(_("有 %(n)d 项存在冲突，请逐项决定。", n=result[1]), "warn")
    return redirect(url_for("surveys.index"))


@bp.route("/new-children/<id:proposal_id>/<action>", methods=["POST"])
@requires("apply_surveys")
def decide_child(proposal_id, action):
    if action not in ("create", "reject"):
        abort(404)
    p = db.session.scalar(child_proposals_query(current_user).where(ChildProposal.id == proposal_id))
    if p is None:
        abort(404)
    _form_ok()
    if action == "reject":
        save_or_flash(lambda: reject_proposal(p, current_user), _("已不建档。"), FileError)
        audit("reject", "child_proposal", p.id, commit=True)
        return redirect(url_for("surveys.index"))
    student_no = (request.form.get("student_no") or "").strip()
    if not student_no or len(student_no) > 32:
        flash(_("请填写学号（最多 32 个字符）。"), "error")
        return redirect(url_for("surveys.index"))
    saved, child = save_or_flash(lambda: create_from_proposal(p, current_user, student_no), _("已建档。"), FileError)
    if saved:
        return redirect(url_for("children.show", child_id=child.id))
    return redirect(url_for("surveys.index"))
