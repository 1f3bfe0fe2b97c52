"""Small helpers shared by pages and the API."""
from flask import jsonify, request
from flask.sessions import SecureCookieSessionInterface


def api_error(status: int, code: str, message: str, **extra):
    """A JSON error with a stable machine code and a message in the user's language."""
    body = {"error": code, "message": message}
    body.update(extra)
    resp = jsonify(body)
    resp.status_code = status
    return resp


def client_ip() -> str:
    """The caller's address (ProxyFix has already applied X-Forwarded-For when trusted)."""
    return request.remote_addr or "unknown"


def wants_json() -> bool:
    """True for API calls, which get JSON errors instead of pages."""
    return request.path.startswith("/api/")


class HttpsAwareSessionInterface(SecureCookieSessionInterface):
    """Signed-cookie sessions whose cookie is Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)

    def save_session(self, app, session, response) -> None:
        super().save_session(app, session, response)
        # Static files do not depend on who asks. Flask-Login reads the session after every request, which adds
        # "Vary: Cookie"; a new cookie (login, CSRF token) would then make the browser fetch the shell again.
        if request.path.startswith(app.static_url_path + "/") and not session.modified:
            response.vary.discard("Cookie")
