"""Staff import: good rows create accounts with one-time passwords shown once, bad rows list every problem, a
repeated import updates by username (never resets a password), and the template's sample row creates nothing."""
import io
import re

from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEntry, User
from tests.conftest import PASSWORD, login

HEADERS = ["用户名", "姓名", "角色", "手机", "村"]


def _xlsx(rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(HEADERS)
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _upload(client, token, data: bytes, name="staff.xlsx"):
    return client.post("/staff/import", data={"file": (io.BytesIO(data), name)}, headers={"X-CSRFToken": token},
                       content_type="multipart/form-data")


def test_import_good_bad_and_repeated_rows(client, app, world):
    token = login(client, "admina")
    rows = [
        ["wanglaoshi", "王老师", "教师", "13811112222", ""],
        ["licunwei", "李村委", "村委会成员", "", "A1村"],
        ["BAD NAME", "", "校长", "abc", ""],  # four problems in one row
        ["teacherb", "冒名", "教师", "", ""],  # another school's account
        ["wanglaoshi", "王二", "教师", "", ""],  # repeated in the file
    ]
    r = _upload(client, token, _xlsx(rows))
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    assert "新建 2 个账号，更新 0 个，0 个没有变化，3 行有问题未导入。" in html
    bad = re.search(r"<td>4</td><td>([^<]*)</td>", html).group(1)
    for problem in ("用户名须为", "姓名必填。", "手机号“abc”格式不对。", "角色应为："):
        assert problem in bad
    assert "用户名“teacherb”已被使用。" in html and "用户名 wanglaoshi 与第 2 行重复。" in html
    otps = dict(re.findall(r"<tr><td>([a-z]+)</td><td>[^<]*</td><td class=\"otp\">([^<]+)</td></tr>", html))
    assert set(otps) == {"wanglaoshi", "licunwei"}
    made = {u.username: u for u in db.session.scalars(select(User).where(User.username.in_(otps)))}
    assert made["licunwei"].village_id == world["A"]["v1"].id and made["licunwei"].role == "committee"
    assert all(u.school_id == world["A"]["school"].id and u.must_change_password for u in made.values())
    db.session.refresh(world["B"]["teacher"])
    assert world["B"]["teacher"].name != "冒名"
    login(app.test_client(), "wanglaoshi", otps["wanglaoshi"])

    # Again, with a change: updated by username, not duplicated, password kept, no new one-time password.
    hash_before = made["wanglaoshi"].password_hash
    rows2 = [["wanglaoshi", "王老师", "心理辅导教师", "13811112222", ""], ["licunwei", "李村委", "村委会成员", "", "A1村"]]
    html = _upload(client, token, _xlsx(rows2)).get_data(as_text=True)
    assert "新建 0 个账号，更新 1 个，1 个没有变化，0 行有问题未导入。" in html and 'class="otp"' not in html
    assert db.session.scalar(select(func.count()).select_from(User).where(User.username == "wanglaoshi")) == 1
    db.session.expire_all()
    w = db.session.scalar(select(User).where(User.username == "wanglaoshi"))
    assert w.role == "counsellor" and w.password_hash == hash_before
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "user",
                                                                 AuditEntry.user_id == world["A"]["admin"].id,
                                                                 AuditEntry.action != "login")).all()
    assert sorted(actions) == ["account_created", "account_created", "account_updated", "import", "import"]


def test_the_template_downloads_and_its_sample_row_creates_nothing(client, world):
    token = login(client, "admina")
    r = client.get("/staff/import/template.xlsx")
    assert r.status_code == 200 and "staff-template.xlsx" in r.headers["Content-Disposition"]
    ws = load_workbook(io.BytesIO(r.data)).active
    assert [c.value for c in ws[1]] == ["用户名*", "姓名*", "角色*", "手机", "村"]
    before = db.session.scalar(select(func.count()).select_from(User))
    html = _upload(client, token, r.data).get_data(as_text=True)
    assert "模板的示例行已跳过。" in html and "新建 0 个账号" in html
    assert db.session.scalar(select(func.count()).select_from(User)) == before


def test_an_unreadable_file_changes_nothing_and_csv_works(client, world):
    token = login(client, "admina")
    r = _upload(client, token, b"PK\x03\x04 not really a zip", "x.xlsx")
    assert r.status_code == 400 and "无法读取" in r.get_data(as_text=True)
    csv = "用户名,姓名,角色\nzhaolaoshi,赵老师,teacher\n".encode("gb18030")
    assert "新建 1 个账号" in _upload(client, token, csv, "staff.csv").get_data(as_text=True)


def test_only_a_school_admin_imports(client, world):
    login(client, "principala")
    assert client.get("/staff/import").status_code == 403
    login(client, "bureauadmina")
    assert client.get("/staff/import").status_code == 404
    login(client, "teachera", PASSWORD)
    assert client.get("/staff/import/template.xlsx").status_code == 403
