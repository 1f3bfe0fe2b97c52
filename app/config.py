"""Defaults; secrets and keys live in instance/, never in git."""
import os
import secrets
from pathlib import Path


class Config:
    """Defaults for every deployment; instance/config.py and env vars override."""

    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 24 * 14
    WTF_CSRF_TIME_LIMIT = 3600
    # The sync API sends the token in X-CSRFToken; forms post it as a field.
    WTF_CSRF_HEADERS = ["X-CSRFToken", "X-CSRF-Token"]
    BABEL_DEFAULT_LOCALE = "zh"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ["zh", "en"]
    SHELL_MINIFY = True  # the script bundle and stylesheets without comments and indentation (app/pwa.py); False to debug
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    LOGIN_MAX_FAILURES = 5
    LOGIN_FAILURE_WINDOW = 15 * 60
    # Per address (a whole school may share one) logins are slowed, never refused: after this many failures in the
    # window, each attempt waits STEP seconds more than the last, at most MAX.
    LOGIN_ADDRESS_FREE_FAILURES = 10
    LOGIN_ADDRESS_DELAY_STEP = 0.5
    LOGIN_ADDRESS_DELAY_MAX = 3.0
    ROSTER_IMPORT_MAX_ROWS = 5000
    STAFF_IMPORT_MAX_ROWS = 500  # each new account hashes a password (scrypt): a county's largest school has ~200 staff
    # A 5,000-row roster is about 0.5 MB as .xlsx and 1.5 MB as .csv; its sheet XML about 8 MB unzipped.
    ROSTER_IMPORT_MAX_BYTES = 8 * 1024 * 1024
    ROSTER_IMPORT_MAX_ENTRY_BYTES = 16 * 1024 * 1024  # each part of the .xlsx, unzipped
    ROSTER_IMPORT_MAX_UNZIPPED_BYTES = 48 * 1024 * 1024  # all parts together
    PHOTO_MAX_BYTES = 12 * 1024 * 1024
    PHOTO_MAX_PIXELS = 40_000_000  # baseline JPEG: libjpeg decodes it at 1/2..1/8 scale (draft), ~70 MB at most
    PHOTO_MAX_PIXELS_FULL = 4096 * 4096  # PNG, progressive JPEG: decoded at full size, ≤ 150 MB at this limit
    PHOTO_MAX_PIXELS_WEBP = 2896 * 2896  # WebP costs twice a PNG's memory a pixel: half the pixels, ≤ 130 MB
    PHOTO_DECODE_SLOTS = 2  # decodes at once per process: one per core
    PHOTO_DECODE_WAIT = 10  # seconds an upload waits for a slot before a 503 "busy" (the phone retries)
    # A teacher's heavy day: a week of offline visits synced at once, ~30 visits x 5 photos + signatures (~200);
    # 500 leaves room for that and still stops a script. Photos leave the phone at ~250 KB (static/js/capture.js).
    PHOTO_UPLOADS_PER_DAY = 500
    # Bytes uploaded but listed by no record yet: the photos of records in flight (~800 phone photos); bounds the disk
    # one account can fill with uploads it never links (12 MB each: 16 of them).
    PHOTO_UNLINKED_BYTES_MAX = 200 * 1024 * 1024
    PHOTO_UNLINKED_MAX_AGE = 7 * 24 * 3600  # `flask housekeeping` removes unlinked uploads older than this
    UPLOAD_TMP_MAX_AGE = 24 * 3600  # ... and half-written temporary files older than this
    PHOTO_PARTIAL_MAX_AGE = 24 * 3600  # ... and resumable uploads untouched this long (a phone back within a day resumes)
    RECORDS_PER_BATCH = 100
    # Raise the roster stamps (app/sync/stamp.py) on commit. Off only for tests that write through older schemas.
    ROSTER_STAMPS = True
    CORRECTION_DAYS = 7  # days after a return (China dates) by which its author should send the correction
    # Web Push: the push services write here when our pushes misbehave. Set the operator's real address.
    VAPID_SUBJECT = os.environ.get("VAPID_SUBJECT", "mailto:jiafang-admin@example.org")
    # The browsers' push services, the only hosts push endpoints may name ("*.name": any name below it; Windows and
    # Apple shard by subdomain). See app/notify/endpoints.py.
    PUSH_ALLOWED_HOSTS = ["fcm.googleapis.com", "updates.push.services.mozilla.com", "*.notify.windows.com",
                          "web.push.apple.com", "*.push.apple.com"]
    PUSH_ALLOW_LOOPBACK = False  # tests only (ignored unless TESTING): accept http://127.0.0.1 push endpoints


def secret_key(instance_path: str) -> str:
    """Read the secret key from instance/, generating it once on first run."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two workers starting at once must not write two different keys.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
    return path.read_text().strip()


def database_url(instance_path: str) -> str:
    """DATABASE_URL selects PostgreSQL; the embedded default is SQLite in instance/."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return sqlalchemy_url(url)
    return "sqlite:///" + str(Path(instance_path) / "jiafang.db")


def postgres_engine_options(options: dict) -> dict:
    """Engine options for PostgreSQL: JIT compilation off for our sessions (unless instance/config.py sets its own
    `options`). Our queries are short; PostgreSQL's cost estimate for the whole-city counts (correlated EXISTS that
    almost never run) crosses jit_above_cost and it spent 260 of 345 ms compiling them (EXPLAIN ANALYZE, 50k children)."""
    connect_args = dict(options.get("connect_args") or {})
    connect_args.setdefault("options", "-c jit=off")
    return {**options, "connect_args": connect_args}


def sqlalchemy_url(url: str) -> str:
    """postgres:// and postgresql:// name the psycopg2 driver to SQLAlchemy; we ship psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url
