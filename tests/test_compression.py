"""Brotli and gzip from the app itself: text compressed when the client accepts it, photos and downloads never."""
from __future__ import annotations

import gzip

import brotli
import pytest

from app.pwa import asset

from . import imaging
from .builders import post, put_photo, visit
from .conftest import login

DECODE = {"br": brotli.decompress, "gzip": gzip.decompress}


def _identity(client, url):
    r = client.get(url)
    assert r.status_code == 200 and "Content-Encoding" not in r.headers
    return r.get_data()


def _shell_urls(app):
    with app.test_request_context():
        return ["/app/shell", "/sw.js", "/manifest.webmanifest", "/offline", asset("js/app.js"), asset("css/app.css")]


@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_text_is_compressed_and_decompresses_to_the_same_bytes(app, client, encoding):
    for url in _shell_urls(app):
        plain = _identity(client, url)
        r = client.get(url, headers={"Accept-Encoding": f"{encoding}"})
        assert r.status_code == 200, url
        assert r.headers["Content-Encoding"] == encoding, url
        assert "accept-encoding" in r.headers["Vary"].lower(), url
        body = r.get_data()
        assert len(body) < len(plain) and DECODE[encoding](body) == plain, url


def test_browser_header_gets_brotli_for_json(client, world):
    login(client, world["A"]["teacher"].username)
    r = client.get("/api/v1/roster", headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
    assert r.status_code == 200 and r.headers["Content-Encoding"] == "br" and r.mimetype == "application/json"
    assert brotli.decompress(r.get_data()) == _identity(client, "/api/v1/roster")
    r = client.get("/api/v1/roster", headers={"Accept-Encoding": "gzip;q=1, br;q=0.5"})
    assert r.headers["Content-Encoding"] == "gzip" and gzip.decompress(r.get_data()) == _identity(client, "/api/v1/roster")


def test_no_accept_encoding_means_identity(app, client):
    for url in _shell_urls(app):
        r = client.get(url)
        assert "Content-Encoding" not in r.headers, url
    r = client.get("/app/shell", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in r.headers


def test_tiny_bodies_are_not_compressed(client):
    r = client.get("/api/v1/roster", headers={"Accept-Encoding": "br, gzip"})  # 401 JSON, a few dozen bytes
    assert r.status_code == 401 and "Content-Encoding" not in r.headers


def test_photos_are_never_compressed(client, world):
    token = login(client, world["A"]["teacher"].username)
    data = imaging.jpeg(seed=3, size=(1600, 1200), exif=imaging.exif_block())
    assert put_photo(client, token, data).status_code == 201
    assert post(client, token, [visit(world["A"]["c1"], [imaging.sha(data)])]).status_code == 200
    for variant in ("full", "thumb"):
        r = client.get(f"/photos/{imaging.sha(data)}/{variant}", headers={"Accept-Encoding": "br, gzip"})
        assert r.status_code == 200 and r.mimetype == "image/jpeg"
        assert "Content-Encoding" not in r.headers and r.data[:2] == b"\xff\xd8"


def test_xlsx_download_is_not_compressed(client, world):
    login(client, world["A"]["principal"].username)
    r = client.get("/children/import/template.xlsx", headers={"Accept-Encoding": "br, gzip"})
    assert r.status_code == 200 and "Content-Encoding" not in r.headers and r.data[:2] == b"PK"


def test_range_request_is_not_compressed(app, client):
    with app.test_request_context():
        url = asset("js/app.js")
    r = client.get(url, headers={"Accept-Encoding": "br", "Range": "bytes=0-99"})
    assert r.status_code == 206 and "Content-Encoding" not in r.headers and len(r.data) == 100


def test_static_file_revalidates_with_its_compressed_etag(app, client):
    with app.test_request_context():
        url = asset("js/app.js")
    r = client.get(url, headers={"Accept-Encoding": "br"})
    etag = r.headers["ETag"]
    assert etag.endswith(':br"') and not etag.startswith("W/")
    assert r.headers["Vary"] == "Accept-Encoding"  # not Cookie: a login must not refetch the shell
    again = client.get(url, headers={"Accept-Encoding": "br", "If-None-Match": etag})
    assert again.status_code == 304 and again.headers["ETag"] == etag and again.data == b""
    plain = client.get(url, headers={"If-None-Match": etag.replace(":br", "")})
    assert plain.status_code == 304  # the identity copy's validator still works


def test_roster_answers_304_itself_for_the_compressed_etag(client, world, monkeypatch):
    """The roster view sees its own validator, so a 304 needs no compression of a body thrown away."""
    login(client, world["A"]["teacher"].username)
    r = client.get("/api/v1/roster", headers={"Accept-Encoding": "br"})
    etag = r.headers["ETag"]
    assert r.headers["Content-Encoding"] == "br" and etag.endswith(':br"')
    import flask_compress.flask_compress as fc
    calls = []
    real = fc._compress_data
    monkeypatch.setattr(fc, "_compress_data", lambda *a: calls.append(a) or real(*a))
    again = client.get("/api/v1/roster", headers={"Accept-Encoding": "br", "If-None-Match": etag})
    assert again.status_code == 304 and again.headers["ETag"] == etag and calls == []
    assert post(client, login(client, world["A"]["teacher"].username), [visit(world["A"]["c1"])]).status_code == 200
    changed = client.get("/api/v1/roster", headers={"Accept-Encoding": "br", "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag and brotli.decompress(changed.data)


def test_an_empty_or_odd_if_none_match_is_no_error(client, world):
    """The fuzzer sent If-None-Match: "" and got a 500 (werkzeug parses the empty tag as None)."""
    from .conftest import login

    login(client, world["A"]["teacher"].username)
    for value in ('""', '"a", ""', 'W/""', "", "*", '"x:br", ""'):
        r = client.get("/api/v1/roster", headers={"If-None-Match": value, "Accept-Encoding": "br"})
        assert r.status_code in (200, 304), (value, r.status_code)
