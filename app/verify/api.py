"""The committee member's code secret, for the offline code screen of the app."""
from __future__ import annotations

from flask import abort, jsonify
from flask_login import current_user, login_required

from ..access import may_hold_confirm_secret
from ..extensions import db
from ..models import Village
from . import bp, totp
from .services import secret_for


@bp.route("/api/v1/confirm/secret")
@login_required
def confirm_secret():
    """The caller's own TOTP secret (committee members only; 404 for everyone else). Never cached by the browser:
    the app keeps it in IndexedDB and wipes it at logout."""
    if not may_hold_confirm_secret(current_user):
        abort(404)
    secret = secret_for(current_user)
    db.session.commit()
    village = db.session.get(Village, current_user.village_id)
    resp = jsonify({"secret": secret, "algorithm": "SHA1", "digits": totp.DIGITS, "step": totp.STEP_SECONDS,
                    "member": current_user.name, "village": village.name if village else None,
                    "user_id": current_user.id})
    resp.headers["Cache-Control"] = "no-store"
    return resp
