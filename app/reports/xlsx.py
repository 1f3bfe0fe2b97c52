"""Workbooks and downloads: every export is an attachment that no cache keeps."""
from __future__ import annotations

import io

from flask import Response

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Text a spreadsheet may take for a formula (openpyxl writes "=…" as one; Excel and WPS re-read the rest on editing).
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def text_safe(ws, values) -> list:
    """A row for `ws.append` (normal or write-only sheet) in which no text becomes a formula; numbers stay numbers."""
    from openpyxl.cell import WriteOnlyCell

    row = []
    for v in values:
        if isinstance(v, str) and v.startswith(FORMULA_LEADS):
            v = WriteOnlyCell(ws, value=v)
            v.data_type = "s"
            v.quotePrefix = True  # Excel keeps it text even when the cell is edited and confirmed again
        row.append(v)
    return row


def append_row(ws, values) -> None:
    """Append user data to a sheet, every text as text: the one way rows get into an export."""
    ws.append(text_safe(ws, values))


def workbook_bytes(wb) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def bold_header(ws, headers: list[str], width: int = 14) -> None:
    """Append a bold header row to a normal (not write-only) sheet and widen its columns."""
    from openpyxl.styles import Font

    append_row(ws, headers)
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    for i in range(1, len(headers) + 1):
        ws.column_dimensions[ws.cell(1, i).column_letter].width = width


def attachment(data: bytes, filename: str, mimetype: str = XLSX) -> Response:
    """A download: ASCII file names made of ids and dates only (never a child's name), no caching anywhere."""
    assert filename.isascii() and '"' not in filename
    resp = Response(data, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    resp.headers["Cache-Control"] = "no-store"
    return resp


def no_store(resp: Response) -> Response:
    """Printable pages of children's data: shown, never stored by a browser or proxy cache."""
    resp.headers["Cache-Control"] = "no-store"
    return resp
