import pytest

from app import create_app


def test_config_defaults_and_test_mapping(tmp_path, monkeypatch):
    monkeypatch.setenv("JIAFANG_INSTANCE", str(tmp_path / "inst"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app()
    assert not app.testing
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("inst/jiafang.db")
    # The secret key is generated once into instance/ and kept.
    key = (tmp_path / "inst" / "secret_key").read_text()
    assert len(key) == 64 and app.config["SECRET_KEY"] == key
    assert create_app().config["SECRET_KEY"] == key
    assert create_app({"TESTING": True}).testing


def test_database_url_selects_postgres(tmp_path, monkeypatch):
    monkeypatch.setenv("JIAFANG_INSTANCE", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@localhost/db")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@localhost/db"
    # PostgreSQL sessions run without JIT (it cost 260 ms of compiling on the whole-city counts); SQLite gets no such option.
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"] == {"options": "-c jit=off"}
    assert "connect_args" not in create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).config["SQLALCHEMY_ENGINE_OPTIONS"]


def test_postgres_sessions_run_without_jit(app):
    from sqlalchemy import text

    from app.extensions import db

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("PostgreSQL only (the suite's second pass)")
        assert db.session.scalar(text("SHOW jit")) == "off"


def test_login_page_is_chinese_by_default(client):
    r = client.get("/login")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert 'lang="zh-CN"' in html and "登录" in html and 'name="viewport"' in html


def test_language_switch_to_english(client):
    r = client.get("/lang/en?next=/login")
    assert r.status_code == 302 and r.headers["Location"].endswith("/login")
    html = client.get("/login").get_data(as_text=True)
    assert 'lang="en"' in html and "Log in" in html
    # An unsafe next= never redirects off-site.
    r = client.get("/lang/zh?next=//evil.example/")
    assert "evil" not in r.headers["Location"]
