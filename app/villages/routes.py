"""Villages of the school: where each one is (the distance rule of the evidence checks depends on it)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..access import requires
from ..extensions import db
from ..models import Village
from ..verify.evidence import refresh_village
from ..web import EmptyForm
from . import bp


@bp.route("/villages/", methods=["GET", "POST"])
@requires("manage_villages")
def index():
    rows = db.session.scalars(select(Village).where(Village.school_id == current_user.school_id)
                              .order_by(Village.name)).all()
    errors: dict[int, str] = {}
    form = EmptyForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            flash(_("表单已过期，请重新提交。"), "error")
            return redirect(url_for("villages.index"))
        village = next((v for v in rows if v.id == request.form.get("village_id", type=int)), None)
        if village is None:
            abort(404)
        lat, lon, why = _parse_location(request.form.get("lat", ""), request.form.get("lon", ""))
        if why:
            errors[village.id] = why
        else:
            village.lat, village.lon = lat, lon
            n = refresh_village(village)
            db.session.commit()
            flash(_("已保存%(v)s的位置，重新核对了 %(n)d 条记录。", v=village.name, n=n), "ok")
            return redirect(url_for("villages.index"))
    return render_template("villages/index.html", villages=rows, errors=errors, form=form,
                           values=request.form if errors else {}), 400 if errors else 200


def _parse_location(lat_s: str, lon_s: str):
    lat_s, lon_s = lat_s.strip(), lon_s.strip()
    if not lat_s and not lon_s:
        return None, None, None  # clearing the location
    try:
        lat, lon = float(lat_s), float(lon_s)
    except ValueError:
        return None, None, _("请填写数字形式的纬度和经度，例如 24.3312 和 109.4123。")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or lat != lat or lon != lon:
        return None, None, _("纬度应在 -90 到 90 之间，经度在 -180 到 180 之间。")
    return round(lat, 6), round(lon, 6), None
