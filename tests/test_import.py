"""Roster import from .xlsx and .csv: good, bad and repeated rows; unreadable files change nothing."""
import io

from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from app.children.importer import COLUMNS
from app.extensions import db
from app.models import Child, Consent, Guardian, Pairing

from .conftest import login, page_csrf

HEADERS = [h for _k, h, _r in COLUMNS]


def row(**over):
    base = {
        "学号": "S001", "姓名": "王小花", "性别": "女", "出生日期": "2016-05-04", "年级": "四年级", "班级": "4(1)班",
        "是否寄宿": "否", "所在村": "", "家庭住址": "一组 3 号", "父母外出情况": "父母均外出", "健康状况": "良好",
        "特殊需要": "", "监护人姓名": "王奶奶", "监护人与孩子关系": "祖母", "监护人电话": "13800000001",
        "监护人年龄": "67", "监护人健康状况": "", "父亲姓名": "王大山", "父亲电话": "13900000001",
        "父亲务工地": "广东东莞", "母亲姓名": "", "母亲电话": "", "母亲务工地": "",
        "监护人同意日期": "2026-09-01", "告知书版本": "2026-1", "责任教师账号": "",
    }
    base.update(over)
    return [base[h] for h in HEADERS]


def xlsx(rows, headers=HEADERS) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append([h + "*" if h in ("学号", "姓名") else h for h in headers])
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def csv_bytes(rows, encoding="utf-8-sig") -> bytes:
    import csv

    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(HEADERS)
    w.writerows(rows)
    return out.getvalue().encode(encoding)


def upload(client, data: bytes, filename: str):
    page = client.get("/children/import")
    token = page_csrf(page.get_data(as_text=True))
    return client.post("/children/import", data={"csrf_token": token, "file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_template_downloads_with_every_column(client, world):
    login(client, world["A"]["principal"].username)
    r = client.get("/children/import/template.xlsx")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(r.data)).active
    headers = [c.value.rstrip("*") for c in ws[1]]
    assert headers == HEADERS
    assert ws["A1"].value == "学号*"


def test_good_rows_import_and_bad_rows_are_reported_in_chinese(client, world):
    A = world["A"]
    login(client, A["principal"].username)
    before = count(Child)
    rows = [
        row(),
        row(学号="S002", 姓名="李强", 性别="男", 所在村=A["v1"].name, 责任教师账号=A["teacher"].username, 是否寄宿="是"),
        row(学号="S003", 性别="未知"),
        row(学号="S004", 监护人姓名=""),
        row(学号="S005", 出生日期="2016-13-45"),
        row(学号="S006", 所在村="不存在村"),
        row(学号="S007", 责任教师账号=world["B"]["teacher"].username),  # another school's teacher
        row(学号="S001", 姓名="重复"),  # the same student twice in one sheet
        row(学号="S008", 监护人同意日期=""),  # no consent, no file
    ]
    r = upload(client, xlsx(rows), "roster.xlsx")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "新建 2 份档案" in html and "7 行有问题" in html
    for n, reason in [(4, "性别"), (5, "监护人姓名"), (6, "出生日期"), (7, "不存在村"), (8, "教师"),
                      (9, "重复"), (10, "监护人同意日期")]:
        assert f"<td>{n}</td><td>" in html and reason in html, (n, reason)
    assert count(Child) == before + 2
    s2 = db.session.scalar(select(Child).where(Child.student_no == "S002"))
    assert s2.school_id == A["school"].id and s2.village_id == A["v1"].id and s2.boarding and s2.sex == "male"
    pairing = db.session.scalar(select(Pairing).where(Pairing.child_id == s2.id))
    assert pairing.teacher_id == A["teacher"].id and pairing.responsible
    s1 = db.session.scalar(select(Child).where(Child.student_no == "S001"))
    roles = sorted(g.role for g in db.session.scalars(select(Guardian).where(Guardian.child_id == s1.id)))
    assert roles == ["father", "guardian"]
    consent = db.session.scalar(select(Consent).where(Consent.child_id == s1.id))
    assert consent.notice_version == "2026-1" and str(consent.consented_on) == "2026-09-01"


def test_importing_again_updates_instead_of_duplicating(client, world):
    login(client, world["A"]["principal"].username)
    upload(client, xlsx([row(), row(学号="S002", 姓名="李强")]), "roster.xlsx")
    children, guardians, consents = count(Child), count(Guardian), count(Consent)
    r = upload(client, xlsx([row(班级="4(2)班", 监护人电话="13811112222"), row(学号="S002", 姓名="李强")]), "roster.xlsx")
    assert "新建 0 份档案，更新 2 份" in r.get_data(as_text=True)
    assert (count(Child), count(Guardian), count(Consent)) == (children, guardians, consents)
    s1 = db.session.scalar(select(Child).where(Child.student_no == "S001"))
    assert s1.class_name == "4(2)班"
    g = db.session.scalar(select(Guardian).where(Guardian.child_id == s1.id, Guardian.role == "guardian"))
    assert g.phone == "13811112222"


def test_same_student_number_in_another_school_is_another_child(client, world):
    login(client, world["A"]["principal"].username)
    upload(client, xlsx([row()]), "a.xlsx")
    client.delete("/api/v1/session")
    login(client, world["B"]["principal"].username)
    r = upload(client, xlsx([row()]), "b.xlsx")
    assert "新建 1 份档案" in r.get_data(as_text=True)
    schools = db.session.scalars(select(Child.school_id).where(Child.student_no == "S001")).all()
    assert sorted(schools) == sorted([world["A"]["school"].id, world["B"]["school"].id])


def test_csv_in_utf8_and_gbk(client, world):
    login(client, world["A"]["principal"].username)
    r = upload(client, csv_bytes([row()]), "roster.csv")
    assert "新建 1 份档案" in r.get_data(as_text=True)
    r = upload(client, csv_bytes([row(学号="S009", 姓名="赵敏")], encoding="gb18030"), "名单.csv")
    assert "新建 1 份档案" in r.get_data(as_text=True)
    assert db.session.scalar(select(Child.name).where(Child.student_no == "S009")) == "赵敏"


def test_unreadable_files_change_nothing(client, world):
    login(client, world["A"]["principal"].username)
    upload(client, xlsx([row()]), "roster.xlsx")
    before = (count(Child), count(Guardian), count(Consent))
    good = xlsx([row(姓名="改名"), row(学号="S010")])
    cases = {
        "truncated.xlsx": (good[: len(good) // 2], "无法读取"),
        "photo.jpg": (b"\xff\xd8\xff\xe0 not a sheet", "只支持"),
        "noheaders.xlsx": (xlsx([row()], headers=["甲", "乙"]), "表头"),
        "missing.csv": ("学号,姓名\nS011,某某\n".encode(), "缺少必填列"),
        "binary.csv": (b"\xff\xfe\x00\x81\x8d\x90" * 50, "编码"),
    }
    for name, (data, message) in cases.items():
        r = upload(client, data, name)
        assert r.status_code == 400, name
        assert message in r.get_data(as_text=True), name
    assert (count(Child), count(Guardian), count(Consent)) == before
    assert db.session.scalar(select(Child.name).where(Child.student_no == "S001")) == "王小花"


def test_missing_file_and_stale_form_are_clear_errors(client, world):
    login(client, world["A"]["principal"].username)
    before = count(Child)
    page = client.get("/children/import")
    token = page_csrf(page.get_data(as_text=True))
    r = client.post("/children/import", data={"csrf_token": token}, content_type="multipart/form-data")
    assert r.status_code == 400 and "请选择要导入的文件" in r.get_data(as_text=True)
    r = client.post("/children/import", data={"file": (io.BytesIO(xlsx([row()])), "r.xlsx")},
                    content_type="multipart/form-data")
    assert r.status_code == 400
    assert count(Child) == before


def test_cli_import(app, world, tmp_path):
    path = tmp_path / "roster.xlsx"
    path.write_bytes(xlsx([row(), row(学号="S002", 性别="x")]))
    result = app.test_cli_runner().invoke(args=["import-roster", str(path), "--principal", world["A"]["principal"].username])
    assert result.exit_code == 0, result.output
    assert "created 1, updated 0, rejected 1" in result.output and "row 3:" in result.output
    assert db.session.scalar(select(Child.school_id).where(Child.student_no == "S001")) == world["A"]["school"].id
