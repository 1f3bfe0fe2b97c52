"""Brotli and gzip in the app itself (Flask-Compress): the embedded server (`make run`) has no proxy to do it.

Text only (pages, JSON, scripts, styles, the manifest, /sw.js); never photos, xlsx or bodies under 500 bytes.
Flask-Compress marks a compressed body's strong ETag with its encoding ("abc" becomes "abc:br"); a client echoes that
in If-None-Match, so the validator is also handed to the views as "abc", which lets a view (the roster) or send_file
answer 304 on its own, without building or compressing a body it would throw away.
"""
from __future__ import annotations

from flask import Flask, g, request
from flask_compress import Compress
from werkzeug.datastructures import ETags
from werkzeug.http import parse_etags

ENCODINGS = ("br", "gzip")
MIMETYPES = ["text/html", "text/css", "text/plain", "text/javascript", "application/javascript", "application/json",
             "application/manifest+json", "application/problem+json", "image/svg+xml"]


class TextCompress(Compress):
    """Flask-Compress, minus partial content (a byte range of the identity body must stay so) and the photo routes."""

    def after_request(self, response):
        if response.status_code == 206 or request.path.startswith("/photos/"):
            return response
        return super().after_request(response)


compress = TextCompress()


def init_app(app: Flask) -> None:
    """Compress text responses for clients that accept br or gzip; strip the encoding mark from validators."""
    app.config.setdefault("COMPRESS_ALGORITHM", list(ENCODINGS))
    app.config.setdefault("COMPRESS_ALGORITHM_STREAMING", list(ENCODINGS))  # static files are streamed
    app.config.setdefault("COMPRESS_MIMETYPES", MIMETYPES)
    app.config.setdefault("COMPRESS_BR_LEVEL", 5)  # 145 KB of shell in ~2 ms; 11 would take ~300 ms a request
    app.config.setdefault("COMPRESS_MIN_SIZE", 500)
    compress.init_app(app)
    app.before_request(_unmark_validators)
    app.after_request(_mark_not_modified)


def _unmark_validators() -> None:
    """Add "abc" next to each "abc:br" / "abc:gzip" in If-None-Match, remembering which mark it carried."""
    header = request.headers.get("If-None-Match")
    if not header:
        return
    tags = parse_etags(header)
    strong = tags.as_set()
    marks = {}
    for tag in strong:
        if not tag:  # werkzeug parses an empty quoted tag ("") as None
            continue
        base, _, mark = tag.rpartition(":")
        if base and mark in ENCODINGS:
            marks[base] = mark
    if marks:
        g.etag_marks = marks
        weak = tags.as_set(include_weak=True) - strong
        request.environ["HTTP_IF_NONE_MATCH"] = ETags(strong | set(marks), weak, tags.star_tag).to_header()
        request.__dict__.pop("if_none_match", None)  # parsed again from the header above


def _mark_not_modified(response):
    """A 304 a view answered for "abc" names the representation the client holds: "abc:br"."""
    marks = g.get("etag_marks")
    if marks and response.status_code == 304:
        tag, weak = response.get_etag()
        if tag in marks and not weak:
            response.set_etag(f"{tag}:{marks[tag]}")
    return response
