"""Roster import from .xlsx and .csv: good, bad and repeated rows; unreadable files change nothing."""
import io
import time
import tracemalloc
import zipfile

import pytest
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
    return [base.get(h, "") for h in HEADERS]


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


# --- Hostile and oversized files (issue 14, item 7): refused with a 400 in Chinese, quickly, in little memory. ---

SHEET = "xl/worksheets/sheet1.xml"
NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
REQUIRED = [h for _k, h, req in COLUMNS if req]


def rezip(base: bytes, parts: dict) -> bytes:
    """`base` with some parts replaced: bytes, or a function writing into the open zip entry (for huge parts)."""
    src = zipfile.ZipFile(io.BytesIO(base))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            part = parts.get(info.filename, src.read(info.filename))
            if callable(part):
                with dst.open(info.filename, "w") as f:
                    part(f)
            else:
                dst.writestr(info.filename, part)
    return out.getvalue()


def sheet_xml(rows_xml: str, doctype: str = "") -> bytes:
    header = "".join(f'<c t="inlineStr"><is><t>{h}</t></is></c>' for h in REQUIRED)
    return (f'<?xml version="1.0" encoding="UTF-8"?>{doctype}<worksheet {NS}><sheetData>'
            f"<row>{header}</row>{rows_xml}</sheetData></worksheet>").encode()


def measured(fn):
    """Run fn; return its result, the seconds it took and the peak of Python memory it allocated (bytes)."""
    tracemalloc.start()
    t = time.perf_counter()
    try:
        result = fn()
    finally:
        elapsed = time.perf_counter() - t
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return result, elapsed, peak


@pytest.fixture
def before(client, world):
    """A principal with one imported child; returns a function telling what is stored."""
    login(client, world["A"]["principal"].username)
    upload(client, xlsx([row()]), "roster.xlsx")

    def state():
        db.session.expire_all()
        return (count(Child), count(Guardian), count(Consent),
                db.session.scalar(select(Child.name).where(Child.student_no == "S001")))
    return state


def test_200k_rows_stop_at_the_row_limit(client, before, monkeypatch):
    from openpyxl.worksheet._reader import WorkSheetParser

    parsed = []
    real = WorkSheetParser.parse_row
    monkeypatch.setattr(WorkSheetParser, "parse_row", lambda self, el: parsed.append(1) or real(self, el))
    # 200,001 rows in a 0.5 MB file (one number per row), as a hostile upload would be.
    data = rezip(xlsx([row()]), {SHEET: sheet_xml("".join(f"<row><c><v>{i}</v></c></row>" for i in range(200_000)))})
    assert len(data) < 1_000_000
    stored = before()
    r, elapsed, peak = measured(lambda: upload(client, data, "big.xlsx"))
    assert r.status_code == 400
    assert "文件超过 5000 行" in r.get_data(as_text=True)
    assert len(parsed) <= 5000 + 2  # read up to the limit and no further (it was all 200,001)
    assert elapsed < 8  # 22 s before, most of it openpyxl looking for a <dimension> the sheet does not have
    assert before() == stored
    print(f"200k rows: {elapsed:.2f} s, peak {peak / 2**20:.1f} MB")


def test_rows_padded_to_a_million_stop_at_the_limit(client, before):
    # One row numbered 1,048,576: openpyxl fills the gap with empty rows, which must count towards the limit.
    data = rezip(xlsx([row()]), {SHEET: sheet_xml('<row r="1048576"><c t="inlineStr"><is><t>S1</t></is></c></row>')})
    stored = before()
    r, elapsed, peak = measured(lambda: upload(client, data, "padded.xlsx"))
    assert r.status_code == 400 and "文件超过 5000 行" in r.get_data(as_text=True)
    assert before() == stored
    print(f"padded rows: {elapsed:.2f} s, peak {peak / 2**20:.1f} MB")


def test_zip_bomb_is_refused_before_parsing(client, before, monkeypatch):
    def bomb(f):  # 200 MB of text in one cell, about 200 KB compressed
        f.write(sheet_xml("<row><c t=\"inlineStr\"><is><t>").rstrip(b"</t></is></c></row></sheetData></worksheet>"))
        chunk = b"A" * 2**20
        for _ in range(200):
            f.write(chunk)
        f.write(b"</t></is></c></row></sheetData></worksheet>")

    data = rezip(xlsx([row()]), {SHEET: bomb})
    assert len(data) < 400_000
    from openpyxl.reader.excel import ExcelReader

    monkeypatch.setattr(ExcelReader, "read", lambda self: pytest.fail("parsed a zip bomb"))
    stored = before()
    r, elapsed, peak = measured(lambda: upload(client, data, "bomb.xlsx"))
    assert r.status_code == 400 and "解压后过大" in r.get_data(as_text=True)
    assert peak < 20 * 2**20 and elapsed < 5
    assert before() == stored
    print(f"zip bomb: {elapsed:.2f} s, peak {peak / 2**20:.1f} MB")


def test_each_part_is_capped_even_when_it_compresses_modestly(app, client, before):
    app.config["ROSTER_IMPORT_MAX_ENTRY_BYTES"] = 2**20
    rows_xml = "".join(f'<row><c t="inlineStr"><is><t>{i:x}{i * 7919 % 104729:x}</t></is></c></row>' for i in range(60_000))
    data = rezip(xlsx([row()]), {SHEET: sheet_xml(rows_xml)})
    r = upload(client, data, "wide.xlsx")
    assert r.status_code == 400 and "解压后过大" in r.get_data(as_text=True)


LAUGHS = ('<!DOCTYPE worksheet [<!ENTITY a "hahahahahahahahahahaha">'
          + "".join(f'<!ENTITY {c} "{("&" + p + ";") * 10}">' for p, c in zip("abcdefgh", "bcdefghi")) + "]>")


@pytest.mark.parametrize("name, part", [
    ("malformed", lambda base: {SHEET: sheet_xml("<row><c><v>1</v></row>")}),
    ("not xml", lambda base: {SHEET: b"\x00\x01 not xml at all"}),
    ("billion laughs", lambda base: {SHEET: sheet_xml('<row><c t="inlineStr"><is><t>&i;</t></is></c></row>', LAUGHS)}),
    ("billion laughs in the workbook", lambda base: {"xl/workbook.xml": zipfile.ZipFile(io.BytesIO(base)).read(
        "xl/workbook.xml").replace(b"<workbook ", LAUGHS.replace("worksheet", "workbook").encode() + b"<workbook ", 1)}),
    ("external entity", lambda base: {SHEET: sheet_xml(
        '<row><c t="inlineStr"><is><t>S1</t></is></c><c t="inlineStr"><is><t>&x;</t></is></c></row>',
        '<!DOCTYPE worksheet [<!ENTITY x SYSTEM "file:///etc/passwd">]>')}),
    ("corrupt deflate", None),
])
def test_malformed_or_hostile_xml_is_a_400_in_chinese(client, before, name, part):
    base = xlsx([row(姓名="改名")])
    if part is None:  # the sheet's compressed bytes garbled in place: the directory is fine, inflating fails
        data = bytearray(base)
        at = data.index(SHEET.encode(), 0) + len(SHEET) + 40
        data[at:at + 60] = b"\xff" * 60
        data = bytes(data)
    else:
        data = rezip(base, part(base))
    stored = before()
    r, elapsed, peak = measured(lambda: upload(client, data, "hostile.xlsx"))
    html = r.get_data(as_text=True)
    assert r.status_code == 400, name
    assert "无法读取这个 Excel 文件" in html, name
    assert "root:" not in html
    assert before() == stored
    assert peak < 20 * 2**20, name
    print(f"{name}: {elapsed:.2f} s, peak {peak / 2**20:.1f} MB")


def test_openpyxl_reads_through_defusedxml():
    from openpyxl import xml
    from openpyxl.worksheet import _reader

    assert xml.DEFUSEDXML is True
    assert _reader.iterparse.__module__.startswith("defusedxml")


def test_csv_is_capped_in_bytes_and_rows(app, client, before):
    stored = before()
    app.config["ROSTER_IMPORT_MAX_BYTES"] = 64 * 1024
    big = csv_bytes([row(学号=f"B{i}", 健康状况="良好" * 300) for i in range(100)])
    assert len(big) > 64 * 1024
    r = upload(client, big, "big.csv")
    assert r.status_code == 400 and "文件太大" in r.get_data(as_text=True)
    app.config["ROSTER_IMPORT_MAX_ROWS"] = 50
    r = upload(client, csv_bytes([row(学号=f"B{i}") for i in range(51)]), "many.csv")
    assert r.status_code == 400 and "文件超过 50 行" in r.get_data(as_text=True)
    assert before() == stored
    r = upload(client, csv_bytes([row(学号=f"B{i}") for i in range(50)]), "fifty.csv")
    assert "新建 50 份档案" in r.get_data(as_text=True)


def test_cli_refuses_a_hostile_file(app, world, tmp_path):
    path = tmp_path / "laughs.xlsx"
    path.write_bytes(rezip(xlsx([row()]), {SHEET: sheet_xml('<row><c t="inlineStr"><is><t>&i;</t></is></c></row>', LAUGHS)}))
    before = count(Child)
    result = app.test_cli_runner().invoke(args=["import-roster", str(path), "--principal", world["A"]["principal"].username])
    assert result.exit_code == 1 and "无法读取" in result.output
    assert count(Child) == before


def test_every_problem_of_a_row_is_listed(client, world):
    login(client, world["A"]["principal"].username)
    r = upload(client, xlsx([row(性别="未知", 出生日期="2016-13-45", 所在村="不存在村", 离校原因="搬家",
                                 班主任账号="nobody")]), "roster.xlsx")
    html = r.get_data(as_text=True)
    assert "1 行有问题" in html
    for reason in ("性别应填", "出生日期", "不存在村", "离校原因应填", "离校日期和离校原因要一起填", "nobody"):
        assert reason in html, reason
    assert count(Child) == 4  # the world's children only


def test_the_template_example_creates_no_child(client, world):
    login(client, world["A"]["principal"].username)
    data = client.get("/children/import/template.xlsx").data
    wb = load_workbook(io.BytesIO(data))
    assert wb["花名册"].max_row == 1  # headers only
    notes = [r for r in wb["填写说明"].iter_rows(values_only=True)]
    assert "张小明" in notes[-1] and list(notes[-2][:2]) == ["学号", "姓名"]
    before = count(Child)
    r = upload(client, data, "template.xlsx")
    assert "新建 0 份档案" in r.get_data(as_text=True) and count(Child) == before


def test_import_writes_history_and_class_teachers(client, world):
    from app.models import ClassTeacher, FileChange

    a = world["A"]
    login(client, a["principal"].username)
    upload(client, xlsx([row()]), "roster.xlsx")
    r = upload(client, xlsx([row(生活状况="跟爷爷住", 父亲工作单位="东莞某厂", 班主任账号=a["teacher"].username,
                                 离校日期="2026-10-08", 离校原因="辍学")]), "roster.xlsx")
    assert "更新 1 份" in r.get_data(as_text=True)
    s1 = db.session.scalar(select(Child).where(Child.student_no == "S001"))
    changes = {(c.field.split(".")[-1], c.new, c.source) for c in
               db.session.scalars(select(FileChange).where(FileChange.child_id == s1.id))}
    assert {("living_situation", "跟爷爷住", "import"), ("employer", "东莞某厂", "import"),
            ("left_on", "2026-10-08", "import"), ("leave_reason", "dropped_out", "import")} <= changes
    assert db.session.execute(select(ClassTeacher.class_name, ClassTeacher.teacher_id)).all() == [("4(1)班", a["teacher"].id)]
    # A dropout imported alerts the principal as one recorded on the page does.
    from app.models import Notification

    assert db.session.scalar(select(Notification.kind).where(Notification.user_id == a["principal"].id)) == "dropout"
