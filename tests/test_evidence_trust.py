"""Evidence that cannot be forced: committee codes cannot be guessed, and "written late" is judged by what the server saw."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Confirmation, Notification, Record
from app.verify import totp
from app.verify.services import CODE_WINDOW_AFTER, CODE_WINDOW_BEFORE, CODE_WRONG_PER_DAY

from .conftest import login, page_csrf
from .builders import post, race, visit
from .test_verify import A, _at, _codes, _fresh, _member_secret, _send, teacher_token  # noqa: F401  (fixtures)

VISIT = timedelta(hours=-2)
N = 6  # requests sent at once (race()'s default)


@pytest.fixture
def frozen(monkeypatch):
    """Pin the server's clock for ingest (so a test never straddles midnight); `frozen.move(delta)` shifts it."""
    class Clock:
        now = datetime.now(timezone.utc)

        def move(self, delta):
            self.now = self.now + delta

    clock = Clock()
    monkeypatch.setattr("app.records.services.utcnow", lambda: clock.now)
    return clock


def _right_code(secret: str, when: timedelta = VISIT) -> str:
    return totp.code_at(secret, (_at(when) + timedelta(minutes=20)).timestamp())


def _wrong_codes(secret: str, n: int) -> list[str]:
    """Codes counted up from 000000, as the attacker did, skipping any that some step around the visit would accept."""
    occurred = _at(VISIT)
    valid = {totp.code_at_step(secret, s) for s in range(totp.step_of((occurred - CODE_WINDOW_BEFORE).timestamp()) - 5,
                                                         totp.step_of((occurred + CODE_WINDOW_AFTER).timestamp()) + 5)}
    return [c for c in (f"{i:06d}" for i in range(n + len(valid))) if c not in valid][:n]


def _alerts(user) -> list[Notification]:
    db.session.expire_all()
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id,
                                                              Notification.kind == "code_locked")))


# --- 1. committee codes cannot be guessed ------------------------------------------------------------------------

def test_guessing_codes_stops_after_five_wrong_ones_even_the_right_code(client, A, teacher_token, frozen):
    """The attack: visits posted with codes counting up from 000000. After the 5th wrong code even the right one is
    not checked: the visit is stored, flagged code_locked, not confirmed, and the principal is alerted once."""
    secret = _member_secret(A["committee"])
    for n, code in enumerate(_wrong_codes(secret, CODE_WRONG_PER_DAY), 1):
        rec = _fresh(_send(client, teacher_token, A["c1"], when=VISIT, fields={"confirm_code": code}))
        assert rec.confirm_state == "none" and "code_invalid" in _codes(rec) and "code_locked" not in _codes(rec)
        assert len(_alerts(A["principal"])) == (1 if n == CODE_WRONG_PER_DAY else 0)
    right = _right_code(secret)
    locked = [_fresh(_send(client, teacher_token, A["c1"], when=VISIT, fields={"confirm_code": code}))
              for code in (right, *_wrong_codes(secret, 3))]
    for rec in locked:
        assert rec.confirm_state == "none" and "code_locked" in _codes(rec) and "code_invalid" not in _codes(rec)
        c = db.session.scalar(select(Confirmation).where(Confirmation.record_id == rec.id))
        assert (c.method, c.outcome, c.by_id) == ("code", "locked", None)
    assert locked[0].fields["confirm_code"] == right and locked[0].score >= 40
    alerts = _alerts(A["principal"])
    assert len(alerts) == 1 and A["teacher"].name in alerts[0].text and A["c1"].name not in alerts[0].text
    assert alerts[0].url == f"/review/?teacher={A['teacher'].id}&village={A['v1'].id}"
    assert not _alerts(A["teacher"]) and not _alerts(A["committee"])
    # The principal sees why; the committee member can still confirm the visit in the queue.
    login(client, A["principal"].username)
    assert "口令输错太多" in client.get(f"/records/{locked[0].id}").get_data(as_text=True)
    login(client, A["committee"].username)
    html = client.get("/confirm/").get_data(as_text=True)
    assert f'id="r{locked[0].id}"' in html
    r = client.post(f"/confirm/{locked[0].id}", data={"csrf_token": page_csrf(html), "action": "confirm"})
    assert r.status_code == 302
    rec = _fresh(locked[0])
    assert rec.confirm_state == "confirmed" and "no_confirmation" not in _codes(rec)
    assert db.session.scalar(select(Confirmation.method).where(Confirmation.record_id == rec.id,
                                                                Confirmation.outcome == "confirmed")) == "queue"


def test_right_codes_and_typos_below_the_limit_do_not_lock(client, A, teacher_token, frozen):
    """Right codes are no guesses: many confirmed visits and four typos still leave the next right code accepted."""
    secret = _member_secret(A["committee"])
    for hours in (-9, -7, -5):  # three visits, each with its own code step
        assert _fresh(_send(client, teacher_token, A["c1"], when=timedelta(hours=hours),
                            fields={"confirm_code": _right_code(secret, timedelta(hours=hours))})).confirm_state == "confirmed"
    for code in _wrong_codes(secret, CODE_WRONG_PER_DAY - 1):
        _send(client, teacher_token, A["c1"], when=VISIT, fields={"confirm_code": code})
    rec = _fresh(_send(client, teacher_token, A["c1"], when=VISIT, fields={"confirm_code": _right_code(secret)}))
    assert rec.confirm_state == "confirmed" and not _alerts(A["principal"])


def test_the_limit_is_per_author_and_village_and_per_day(client, build, A, teacher_token, frozen):
    secret = _member_secret(A["committee"])
    for code in _wrong_codes(secret, CODE_WRONG_PER_DAY):
        _send(client, teacher_token, A["c1"], when=VISIT, fields={"confirm_code": code})
    assert "code_locked" in _codes(_send(client, teacher_token, A["c1"], when=VISIT,
                                         fields={"confirm_code": _right_code(secret)}))
    # The same teacher in another village: that village's member's code is checked.
    v2_member = build.user("committee", A["school"], village=A["v2"])
    v2_child = build.child(A["school"], A["v2"], A["teacher"])
    rec = _fresh(_send(client, teacher_token, v2_child, when=VISIT,
                       fields={"confirm_code": _right_code(_member_secret(v2_member))}))
    assert rec.confirm_state == "confirmed" and "code_locked" not in _codes(rec)
    # Another teacher in the same village (another step, so the code is not a replay).
    other_child = build.child(A["school"], A["v1"], A["other_teacher"])
    other_token = login(client, A["other_teacher"].username)
    when = timedelta(hours=-6)
    rec = _fresh(_send(client, other_token, other_child, when=when, fields={"confirm_code": _right_code(secret, when)}))
    assert rec.confirm_state == "confirmed" and "code_locked" not in _codes(rec)
    # The next day (China time) the teacher's count starts again.
    frozen.move(timedelta(days=1))
    when = timedelta(days=1, hours=-2)
    rec = _fresh(_send(client, login(client, A["teacher"].username), A["c1"], when=when,
                       fields={"confirm_code": _right_code(secret, when)}))
    assert rec.confirm_state == "confirmed" and "code_locked" not in _codes(rec)


def test_housekeeping_drops_old_wrong_code_counts_only(app, A):
    """Only today's count is read: rows older than a week go with the nightly housekeeping, recent ones stay."""
    from app.clock import today_local
    from app.models import CodeAttempt

    today = today_local()
    for age in (0, 7, 8, 30):
        db.session.add(CodeAttempt(author_id=A["teacher"].id, village_id=A["v1"].id, day=today - timedelta(days=age),
                                   tries=3))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["housekeeping"])
    assert result.exit_code == 0 and "2 old wrong-code counts" in result.output, result.output
    db.session.expire_all()
    assert sorted((today - d).days for d in db.session.scalars(select(CodeAttempt.day))) == [0, 7]


def test_concurrent_guesses_are_counted_together(app, A):
    """N requests at once, each with a wrong code: only 5 are checked, whatever their interleaving."""
    secret = _member_secret(A["committee"])
    codes = iter(_wrong_codes(secret, N))
    bodies = [visit(A["c1"], occurred_at=_at(VISIT).isoformat(timespec="seconds")) for _ in range(N)]
    for b in bodies:
        b["fields"]["confirm_code"] = next(codes)
    queue = iter(bodies)
    answers = race(app, A["teacher"].username, lambda c, tok: post(c, tok, [next(queue)]))
    assert [body["results"][0]["status"] for _code, body in answers] == ["created"] * N
    db.session.expire_all()
    outcomes = db.session.execute(select(Confirmation.outcome, func.count()).group_by(Confirmation.outcome)).all()
    assert dict(outcomes) == {"invalid": CODE_WRONG_PER_DAY, "locked": N - CODE_WRONG_PER_DAY}
    assert len(_alerts(A["principal"])) == 1


# --- 2. late writing judged by what the server knows -------------------------------------------------------------

def _talk(client, token, child, when: timedelta):
    """Another record synced from the same phone (a talk written just before it was sent)."""
    body = {"id": visit(child)["id"], "kind": "talk", "child_id": child.id,
            "occurred_at": _at(when).isoformat(timespec="seconds"),
            "fields": {"topic": "学习", "mood": "calm", "summary": "聊了学习"}, "photos": []}
    assert post(client, token, [body]).get_json()["results"][0]["status"] == "created"


def _backdated(client, token, child, occurred: timedelta):
    """A visit whose phone says it was saved 30 minutes after the visit."""
    saved = (_at(occurred) + timedelta(minutes=30)).isoformat()
    return _fresh(_send(client, token, child, when=occurred, client={"saved_at": saved, "online": False}))


@pytest.mark.parametrize("earlier_sync, flagged", [
    (None, False),                          # offline for three days, first sync now: believed
    (timedelta(hours=23), False),           # the phone synced within a day of the visit: still in time
    (timedelta(hours=25), True),            # synced a day after the visit without this record: written after that
    (timedelta(days=2), True),
    (timedelta(days=3, minutes=-30), False),  # the same sync (a second round, photos re-sent): no contradiction
])
def test_written_late_is_bounded_by_the_authors_earlier_syncs(client, A, teacher_token, frozen, earlier_sync, flagged):
    occurred = timedelta(days=-3)
    if earlier_sync is not None:
        frozen.move(occurred + earlier_sync)
        _talk(client, teacher_token, A["c1"], occurred + earlier_sync - timedelta(minutes=5))
        frozen.move(-(occurred + earlier_sync))
    rec = _backdated(client, teacher_token, A["c1"], occurred)
    assert ("written_late" in _codes(rec)) is flagged
    if flagged:
        detail = next(f["detail"] for f in rec.flags if f["code"] == "written_late")
        assert detail == f"{earlier_sync.total_seconds() / 3600:.0f} h"  # written after that sync, at the earliest


def test_written_late_ignores_other_authors_and_later_syncs(client, A, teacher_token, frozen):
    occurred = timedelta(days=-3)
    frozen.move(timedelta(days=-1))
    _talk(client, login(client, A["other_teacher"].username), A["c2"], timedelta(days=-1, minutes=-5))
    frozen.move(timedelta(days=1))
    token = login(client, A["teacher"].username)
    rec = _backdated(client, token, A["c1"], occurred)
    assert "written_late" not in _codes(rec)
    frozen.move(timedelta(hours=2))
    _talk(client, token, A["c1"], timedelta(hours=1))
    db.session.expire_all()
    from app.verify import evidence  # a later recompute (e.g. a village moved) gives the same answer
    evidence.refresh(db.session.get(Record, rec.id))
    assert "written_late" not in [f["code"] for f in db.session.get(Record, rec.id).flags]


def test_saved_time_after_receipt_is_not_believed(client, A, teacher_token):
    """A phone clock running days ahead does not make a fresh record look written late."""
    saved = _at(timedelta(days=5)).isoformat()
    rec = _fresh(_send(client, teacher_token, A["c1"], when=VISIT, client={"saved_at": saved, "online": True}))
    assert "written_late" not in _codes(rec)
