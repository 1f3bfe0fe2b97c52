"""Property-based fuzzing of the sync API from its own OpenAPI document (schemathesis), as every role.

For each operation and role, a bounded, derandomized number of generated requests (valid and invalid) are sent to the
WSGI app with that role's session cookie and CSRF token. Every answer must be no 5xx, carry a documented status and
match the documented schema. The statuses seen are kept, and a second test checks each is in the document.
"""
from __future__ import annotations

import itertools
import time
from collections import defaultdict

import hypothesis
import hypothesis.errors
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis import GenerationMode

from .conftest import build_world, fresh_database, login, make_app, Builders

ROLES = ("teacher", "committee", "principal", "counsellor", "admin", None)  # None: not logged in
EXAMPLES = 10  # per operation, role and mode (valid / invalid data): up to 5 × 2 × 15 = 150 calls an operation
SEEN: dict[tuple[str, str], set[int]] = defaultdict(set)
FIGURES = {"calls": 0, "seconds": 0.0}
_addresses = itertools.count(1)


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory):
    """One app and two-school world for the whole module: fuzzing adds to it as real clients would."""
    with fresh_database(make_app(tmp_path_factory.mktemp("fuzz"))) as app:
        app.config["WTF_CSRF_SSL_STRICT"] = False
        build_world(Builders())
        yield app


@pytest.fixture(scope="module")
def wsgi(fuzz_app):
    """The app with an app context of its own per request, as in production (the fixture holds one for building:
    without this, every call would share its `g` and Flask-Login's cached user)."""
    def call(environ, start_response):
        with fuzz_app.app_context():
            return fuzz_app(environ, start_response)

    return call


@pytest.fixture(scope="module")
def schema(fuzz_app, wsgi):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi)


def _credentials(app, role):
    """A fresh session cookie and CSRF token for school A's user of `role` (fuzzing may have logged it out)."""
    if role is None:
        return {}, "none"
    client = app.test_client()
    token = login(client, f"{role}a")
    return {"session": client.get_cookie("session").value}, token


def _operations(schema):
    return [r.ok() for r in schema.get_all_operations()]


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
def test_fuzz_the_api_as_every_role(fuzz_app, wsgi, schema, role):
    failures = []
    for op in _operations(schema):
        cookies, token = _credentials(fuzz_app, role)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = op.as_strategy(generation_mode=mode)

            @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                      phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
            @hypothesis.given(case=strategy)
            def run(case):
                started = time.perf_counter()
                # Each call from its own address: fuzzed logins must not throttle the next role's own login.
                address = f"127.1.{next(_addresses) % 250}.{next(_addresses) % 250}"
                # identity: schemathesis's WSGI transport sends a browser's Accept-Encoding but does not decode brotli
                # (tests/test_compression.py checks the compressed bodies).
                response = case.call(headers={"X-CSRFToken": token, "Accept-Encoding": "identity"}, cookies=cookies,
                                     app=wsgi,
                                     environ_base={"REMOTE_ADDR": address})
                FIGURES["calls"] += 1
                FIGURES["seconds"] += time.perf_counter() - started
                SEEN[(op.method.upper(), op.path)].add(response.status_code)
                case.validate_response(response, checks=CHECKS, transport_kwargs={"app": wsgi})

            try:
                run()
            except hypothesis.errors.Unsatisfiable:  # nothing to make invalid (no parameters, no body)
                pass
            except (Exception, BaseExceptionGroup) as e:  # noqa: BLE001  (every operation's failures, then all)
                failures.append(f"{role} {mode.value} {op.method.upper()} {op.path}: {e}")
    assert not failures, "\n\n".join(failures)


def _checks():
    from schemathesis.checks import load_all_checks, not_a_server_error
    from schemathesis.specs.openapi import checks as c

    load_all_checks()
    # What the app answers, judged against the document. Left out: the checks that judge the generator (a "valid"
    # record for a child the caller may not see is rightly refused; an invalid body can be a harmless no-op).
    return [not_a_server_error, c.status_code_conformance, c.content_type_conformance, c.response_headers_conformance,
            c.response_schema_conformance, c.allow_header_conformance]


CHECKS = _checks()


def test_a_method_the_document_does_not_list_is_405_with_allow(fuzz_app, wsgi, schema):
    """Every path answers the methods it does not document with 405 and an Allow header naming those it does."""
    from werkzeug.test import Client

    cookies, token = _credentials(fuzz_app, "principal")
    client = Client(wsgi)
    client.set_cookie("session", cookies["session"])
    for path, item in schema.raw_schema["paths"].items():
        documented = {m.upper() for m in item if m != "parameters"}
        served = documented | ({"HEAD"} if "GET" in documented else set()) | ({"GET"} if "HEAD" in documented else set())
        url = path.replace("{sha256}", "0" * 64)
        for method in {"GET", "POST", "PUT", "PATCH", "DELETE"} - served:
            r = client.open(url, method=method, headers={"X-CSRFToken": token})
            assert r.status_code == 405, (method, path, r.status_code)
            assert documented <= {m.strip() for m in r.headers.get("Allow", "").split(",")}, (method, path)


def test_every_status_seen_is_documented(schema):
    """Runs after the fuzzing above (same module, file order): each status an operation answered is in its document."""
    if not SEEN:
        pytest.skip("the fuzz test did not run")
    paths = schema.raw_schema["paths"]
    undocumented = {f"{m} {p}": sorted(s - {int(c) for c in paths[p][m.lower()]["responses"]}) for (m, p), s in SEEN.items()}
    assert not {k: v for k, v in undocumented.items() if v}
    print(f"\nfuzz: {len(SEEN)} operations, {FIGURES['calls']} calls, {FIGURES['seconds']:.1f} s in calls; statuses: "
          + "; ".join(f"{m} {p} {sorted(s)}" for (m, p), s in sorted(SEEN.items())))
