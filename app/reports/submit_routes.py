"""The principal's monthly report to the bureau: news items with photos, submission; and the news photos, served to
whoever may open the report (the school's readers of the monthly report and the county's bureau)."""
from __future__ import annotations


from flask import abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from ..access import content_query, requires, visible_news_photo, visible_photo
from ..extensions import db
from ..models import Photo, Record, RecordPhoto
from ..photos.quota import check_upload_quota
from ..photos.routes import send_photo
from ..photos.services import PhotoRejected, rejection_message, save_bytes
from ..web import EmptyForm, arg_id
from . import bp
from .monthly import monthly_report
from .periods import month_window
from .routes import _month
from .sheets import monthly_columns
from .submission import (MIN_NEWS, STATUS_LABELS, SubmissionError, add_news, deadline, delete_news, draft_for,
                         frozen_report, is_late, submit)
from .xlsx import no_store

PICKER_LIMIT = 24  # the month's record photos offered to choose from


def month_photos(month) -> list[Photo]:
    """Photos of the month's records whose content the principal may read, the latest first."""
    start, end = month_window(month).bounds()
    seen = content_query(current_user).where(Record.occurred_at >= start, Record.occurred_at < end) \
        .with_only_columns(Record.id).subquery()
    return list(db.session.scalars(
        select(Photo).join(RecordPhoto, RecordPhoto.photo_id == Photo.id)
        .where(RecordPhoto.record_id.in_(select(seen.c.id)), Photo.kind == "photo")
        .distinct().order_by(Photo.id.desc()).limit(PICKER_LIMIT)))


def _chosen_photos() -> list[Photo]:
    """The record photos ticked (each checked as one the principal may see) and the files uploaded on the page."""
    photos = []
    for text in request.form.getlist("photo"):
        photo = db.session.get(Photo, int(text)) if text.isascii() and text.isdigit() and len(text) < 12 else None
        if photo is None or visible_photo(current_user, photo.sha256) is None:
            raise SubmissionError("photos", _("所选照片不存在或无权使用。"))
        photos.append(photo)
    limit = current_app.config["PHOTO_MAX_BYTES"]
    for f in request.files.getlist("upload"):
        if not f or not f.filename:
            continue
        data = f.read(limit + 1)
        if len(data) > limit:
            raise SubmissionError("photos", _("照片太大（最多 %(mb)d MB）。", mb=limit // 2**20))
        over = check_upload_quota(current_user, len(data))
        if over is not None:
            raise SubmissionError("photos", over.message)
        try:
            photos.append(save_bytes(current_user, data).photo)
        except PhotoRejected as e:
            raise SubmissionError("photos", _("照片 %(name)s 无法使用：%(why)s", name=f.filename[:60],
                                              why=rejection_message(e))) from None
    return photos


@bp.route("/submission", methods=["GET", "POST"])
@requires("submit_monthly")
def submission():
    """Prepare the month's report (news items, photos) and submit it; see the bureau's answer."""
    month = _month()
    sub = draft_for(current_user.school_id, month)
    form = EmptyForm()
    errors: dict = {}
    if request.method == "POST":
        if not form.validate_on_submit():
            errors["form"] = _("表单已过期，请重新提交。")
        else:
            what = request.form.get("what")
            try:
                if what == "add":
                    add_news(sub, current_user, request.form.get("title"), request.form.get("body"), _chosen_photos())
                    done = _("已添加。")
                elif what == "delete":
                    delete_news(sub, current_user, arg_id("item", request.form) or 0)
                    done = _("已删除。")
                elif what == "submit":
                    submit(sub, current_user)
                    done = _("月报已报送教育局。")
                else:
                    abort(400)
                db.session.commit()
                flash(done, "ok")
                return redirect(url_for("reports.submission", month=f"{month:%Y-%m}"))
            except SubmissionError as e:
                db.session.rollback()
                errors[e.field] = e.message
                sub = draft_for(current_user.school_id, month)
    else:
        db.session.commit()  # the empty draft, so its page and photos have an id
    report = frozen_report(sub) or monthly_report(current_user.school_id, month)
    return no_store(make_response(render_template(
        "reports/submission.html", sub=sub, month=month, report=report, columns=monthly_columns(report),
        frozen=sub.snapshot is not None, school=current_user.school, form=form, errors=errors, values=request.form,
        picker=month_photos(month) if sub.state in ("draft", "returned") else [], MIN_NEWS=MIN_NEWS,
        deadline=deadline(month), late=is_late(sub), STATUS_LABELS=STATUS_LABELS), 400 if errors else 200))


@bp.route("/news-photos/<id:photo_id>/<variant>")
@login_required
def news_photo(photo_id, variant):
    """A news item's photo, for those who may open its report (the county's bureau included); 404 for anyone else."""
    photo = visible_news_photo(current_user, photo_id)
    if photo is None:
        abort(404)
    return send_photo(photo, variant)
