"""Workbooks and downloads: every export is an attachment that no cache keeps."""
from __future__ import annotations

import io

from flask import Response

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook_bytes(wb) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def bold_header(ws, headers: list[str], width: int = 14) -> None:
    """Append a bold header row to a normal (not write-only) sheet and widen its columns."""
    from openpyxl.styles import Font

    ws.append(headers)
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
