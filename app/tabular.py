"""Reading an uploaded table (.xlsx or .csv) safely, and writing its template: shared by every import (roster, staff).

The reading is hardened: size limits, zip-bomb checks from the zip directory before any XML is inflated, openpyxl's
streaming reader over defusedxml, a row and a column limit. A file that cannot be read raises UnreadableFile."""
from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from flask_babel import gettext as _
from openpyxl.reader.excel import ExcelReader
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

MAX_COLUMNS = 100  # room for a school's own extra columns next to a template's (the roster's has 55)


class UnreadableFile(Exception):
    """The file itself cannot be read; nothing was imported."""


@dataclass
class RowError:
    """A row that was not imported, and why (every problem of it, in the user's language)."""

    row: int
    reason: str


def template_xlsx(title: str, columns: list[tuple[str, str, bool]], example: list[str], notes: Sequence[str]) -> bytes:
    """A template to download: bold headers (required ones starred), one example row, and a notes sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from .reports.xlsx import append_row

    wb = Workbook()
    ws = wb.active
    ws.title = title
    append_row(ws, [h + ("*" if req else "") for _k, h, req in columns])
    append_row(ws, example)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for i in range(1, len(columns) + 1):
        ws.column_dimensions[ws.cell(1, i).column_letter].width = 14
    sheet = wb.create_sheet("填写说明")
    for line in notes:
        append_row(sheet, [line])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def read_rows(filename: str, data: bytes, max_rows: int, columns: list[tuple[str, str, bool]]) -> list[tuple[int, dict]]:
    """Parse the file into (row number, {key: text}) pairs by the `columns` (key, header, required); UnreadableFile
    when it cannot be read."""
    limits = current_app.config
    if len(data) > limits["ROSTER_IMPORT_MAX_BYTES"]:
        raise UnreadableFile(_("文件太大（最多 %(mb)d MB）：请分成几个文件导入。",
                               mb=limits["ROSTER_IMPORT_MAX_BYTES"] // 2**20))
    name = (filename or "").lower()
    if name.endswith(".csv"):
        table = _csv_rows(data)
    elif name.endswith(".xlsx") or data[:2] == b"PK":
        _check_zip(data, limits["ROSTER_IMPORT_MAX_ENTRY_BYTES"], limits["ROSTER_IMPORT_MAX_UNZIPPED_BYTES"])
        table = _xlsx_rows(data)
    else:
        raise UnreadableFile(_("只支持 .xlsx 或 .csv 文件。"))
    try:
        return _collect(table, max_rows, columns)
    finally:
        table.close()  # stopping early must still close the workbook


def _collect(table: Iterator[Sequence], max_rows: int, columns: list[tuple[str, str, bool]]) -> list[tuple[int, dict]]:
    """Find the header, then take rows until the end or until the row limit is passed (read no further)."""
    too_many = UnreadableFile(_("文件超过 %(n)d 行：一次最多导入 %(n)d 行，请分成几个文件。", n=max_rows))
    # Blank rows are skipped but still read: a sheet padded with a million empty rows must stop too.
    max_scanned = 2 * max_rows + 20
    headers = {h: k for k, h, _req in columns}
    keys = None
    rows = []
    for n, raw in enumerate(table, start=1):
        if n > max_scanned:
            raise too_many
        if keys is None:
            if any(_norm_header(c) in headers for c in raw):
                keys = [headers.get(_norm_header(c)) for c in raw]
                missing = [h for k, h, req in columns if req and k not in keys]
                if missing:
                    raise UnreadableFile(_("缺少必填列：%(cols)s", cols="、".join(missing)))
            elif n >= 10:
                break
            continue
        values = {k: _text(v) for k, v in zip(keys, raw) if k}
        if not any(values.values()):
            continue
        if len(rows) == max_rows:
            raise too_many
        rows.append((n, values))
    if keys is None:
        raise UnreadableFile(_("找不到表头：请使用下载的模板。"))
    return rows


def _norm_header(v) -> str:
    return _text(v).replace("*", "").replace(" ", "").replace("\u3000", "")


def _text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.date().isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _csv_rows(data: bytes) -> Iterator[list]:
    for enc in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK by default
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise UnreadableFile(_("CSV 文件编码无法识别，请另存为 UTF-8。"))
    return _csv_reader(text)


def _csv_reader(text: str) -> Iterator[list]:
    try:
        yield from csv.reader(io.StringIO(text))
    except csv.Error:  # includes a field over csv's 128 KB limit
        raise UnreadableFile(_("CSV 文件格式有误。")) from None


def _check_zip(data: bytes, max_entry: int, max_total: int) -> None:
    """Refuse a zip bomb from its directory alone, before any XML is inflated.

    zipfile never inflates an entry past the size its directory declares (and a lie fails the CRC check), so the
    declared sizes bound what parsing can cost."""
    try:
        entries = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise UnreadableFile(_("无法读取这个 Excel 文件，请确认是 .xlsx 格式。")) from None
    total = 0
    for e in entries:
        total += e.file_size
        # Sheet XML deflates about 10:1; 200:1 is only reached by padding made to expand.
        bomb = e.file_size > 2**20 and e.file_size > 200 * max(e.compress_size, 1)
        if e.file_size > max_entry or total > max_total or bomb or len(entries) > 10_000:
            raise UnreadableFile(_("这个 Excel 文件解压后过大：请使用下载的模板，或分成几个文件导入。"))


def _xlsx_rows(data: bytes) -> Iterator[tuple]:
    try:
        reader = _FirstSheetReader(io.BytesIO(data), read_only=True, data_only=True)
        reader.read()
        try:
            # Bound the width too: a row may not pad itself out to 16,384 columns.
            yield from reader.wb.worksheets[0].iter_rows(max_col=MAX_COLUMNS, values_only=True)
        finally:
            reader.wb.close()
    except Exception:  # noqa: BLE001
        # A broken or hostile file fails anywhere inside zipfile, zlib, expat/defusedxml or openpyxl (ParseError,
        # EntitiesForbidden, BadZipFile, zlib.error, KeyError, ...); nothing has touched the database yet.
        raise UnreadableFile(_("无法读取这个 Excel 文件：文件已损坏或含有不允许的内容，请另存为 .xlsx 后重试。")) from None


class _Sheet(ReadOnlyWorksheet):
    """openpyxl's streaming worksheet without its dimension scan."""

    def _get_size(self):
        # openpyxl looks for <dimension> by parsing until it is found: in a sheet without one (a hostile file omits
        # it) that is the whole sheet, 10 s for 200k rows, before the first row is read. We pass the bounds instead.
        pass


class _FirstSheetReader(ExcelReader):
    """openpyxl's read-only reader (its XML goes through defusedxml, which refuses entity expansion and external
    entities), opening only the first worksheet."""

    def read_worksheets(self):
        for sheet, rel in self.parser.find_sheets():
            if rel.target in self.valid_files and "chartsheet" not in rel.Type:
                self.wb._sheets.append(_Sheet(self.wb, sheet.name, rel.target, self.shared_strings))
                return


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def handle_upload(form, max_bytes: int, run):
    """An import page's POST: the form's file read up to one byte past `max_bytes` (enough to refuse it without
    holding all of it) and given to run(filename, data); (result, status), the reason flashed when there is none."""
    from flask import flash, request
    from flask_babel import gettext as _

    upload = request.files.get("file")
    if not form.validate_on_submit():
        flash(_("页面已过期，请重新选择文件提交。"), "error")
        return None, 400
    if upload is None or not upload.filename:
        flash(_("请选择要导入的文件。"), "error")
        return None, 400
    try:
        return run(upload.filename, upload.read(max_bytes + 1)), 200
    except UnreadableFile as e:
        flash(str(e), "error")
        return None, 400


def template_response(data: bytes, filename: str):
    """A template workbook to download (never cached: it is made per request)."""
    from flask import Response

    return Response(data, mimetype=XLSX, headers={"Content-Disposition": f"attachment; filename={filename}",
                                                  "Cache-Control": "private, no-store"})
