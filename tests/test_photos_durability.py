"""Only the original is fsynced (with its directory) before the 201; the copies are made again when a crash lost them."""
from __future__ import annotations

import os

import pytest

from app.photos import store as store_mod
from app.photos.services import keys, store

from . import imaging
from .builders import post, put_photo, visit
from .conftest import login


@pytest.fixture
def teacher(client, world):
    token = login(client, world["A"]["teacher"].username)
    return {"token": token, "child": world["A"]["c1"]}


@pytest.fixture
def fsyncs(monkeypatch):
    """The paths fsynced, in order (files and directories alike)."""
    done = []
    real = os.fsync

    def spy(fd):
        done.append(os.readlink(f"/proc/self/fd/{fd}"))
        return real(fd)

    monkeypatch.setattr(store_mod.os, "fsync", spy)
    return done


def test_put_fsyncs_the_original_and_its_directory_only(app, client, teacher, fsyncs):
    data = imaging.jpeg(7, size=(1600, 1200))
    assert put_photo(client, teacher["token"], data).status_code == 201
    with app.app_context():
        orig = store()._path(keys(imaging.sha(data))["orig"])
    # the file under its temporary name (renamed to its own afterwards), then the directory holding the new name
    assert [os.path.dirname(p) for p in fsyncs] == [str(orig.parent), str(orig.parent.parent)]
    assert fsyncs[1] == str(orig.parent) and os.path.basename(fsyncs[0]).startswith(".tmp-")


@pytest.mark.parametrize("variant,key", [("full", "display"), ("thumb", "thumb")])
@pytest.mark.parametrize("crash", ["lost", "empty", "cut"])
def test_a_copy_a_crash_spoilt_is_made_again_from_the_original(app, client, teacher, variant, key, crash):
    data = imaging.jpeg(8, size=(1600, 1200))
    sha = imaging.sha(data)
    assert put_photo(client, teacher["token"], data).status_code == 201
    assert post(client, teacher["token"], [visit(teacher["child"], [sha])]).status_code == 200
    good = client.get(f"/photos/{sha}/{variant}").data
    with app.app_context():
        path = store()._path(keys(sha)[key])
    if crash == "lost":
        path.unlink()
    else:
        path.write_bytes(b"" if crash == "empty" else good[: len(good) // 2])
    again = client.get(f"/photos/{sha}/{variant}")
    assert again.status_code == 200 and again.data == good
    assert path.read_bytes() == good  # and stored again


def test_no_original_no_copy(app, client, teacher):
    data = imaging.jpeg(9, size=(800, 600))
    sha = imaging.sha(data)
    assert put_photo(client, teacher["token"], data).status_code == 201
    assert post(client, teacher["token"], [visit(teacher["child"], [sha])]).status_code == 200
    with app.app_context():
        for name in ("orig", "display"):
            store()._path(keys(sha)[name]).unlink()
    assert client.get(f"/photos/{sha}/full").status_code == 404
