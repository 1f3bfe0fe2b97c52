"""Which push endpoints the server will call: https, on a known push service, never an address inside our network.

An endpoint is a URL a browser hands us and the server later POSTs to, so an unchecked one lets any user make the
server call 127.0.0.1, the LAN or a cloud metadata address. It is checked when stored and again when sent: the
names are resolved before each send, and the connection itself refuses a non-public peer (a name that resolved
to a public address a moment earlier may not any more). Redirects are never followed.
"""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import requests
from flask import current_app
from flask_babel import gettext as _
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NewConnectionError

from ..web import has_control_chars

MAX_ENDPOINT = 1000  # the column's length
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


def loopback_allowed() -> bool:
    """The tests' local push service: only ever in a TESTING app, whatever the configuration says."""
    return bool(current_app.testing and current_app.config.get("PUSH_ALLOW_LOOPBACK"))


def host_allowed(host: str, patterns) -> bool:
    """Is host one of the push services (exact names, or "*.name" for the names below it)?"""
    host = host.lower().rstrip(".")
    for p in patterns:
        p = p.lower().rstrip(".")
        if p.startswith("*.") and host.endswith(p[1:]) and len(host) > len(p) - 1:
            return True
        if host == p:
            return True
    return False


def public_address(ip: str) -> bool:
    """A globally routable unicast address (not loopback, private, link-local, unique-local, reserved, multicast)."""
    try:
        addr = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and (addr.ipv4_mapped or addr.sixtofour):
        addr = addr.ipv4_mapped or addr.sixtofour  # ::ffff:10.0.0.1 is 10.0.0.1
    return addr.is_global and not addr.is_multicast


def resolves_public(host: str, port: int) -> bool:
    """Does every address host resolves to lie outside our networks (and is there one)?"""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return False
    return bool(infos) and all(public_address(info[4][0]) for info in infos)


def endpoint_error(endpoint) -> str | None:
    """Why this push endpoint is refused (a Chinese sentence), or None when the server may call it now."""
    if not isinstance(endpoint, str) or not endpoint:
        return _("缺少推送地址（endpoint）。")
    if len(endpoint) > MAX_ENDPOINT:
        return _("推送地址太长。")
    if has_control_chars(endpoint):  # NUL and friends: never valid in a URL, and PostgreSQL refuses NUL
        return _("推送地址无效。")
    try:
        url = urlsplit(endpoint)
        host, port = url.hostname, url.port
    except ValueError:
        return _("推送地址无效。")
    if not host or url.username or url.password:
        return _("推送地址无效。")
    if host in LOOPBACK_NAMES and url.scheme in ("http", "https") and loopback_allowed():
        return None
    if url.scheme != "https":
        return _("推送地址必须使用 HTTPS。")
    if not host_allowed(host, current_app.config["PUSH_ALLOWED_HOSTS"]):
        return _("推送地址不属于已知的浏览器推送服务。")
    if not resolves_public(host, port or 443):
        return _("推送地址指向内部网络，不能使用。")
    return None


class _PeerChecked:
    """A connection that closes itself when the address it reached is not public (the DNS answer may have changed)."""

    def _new_conn(self):
        sock = super()._new_conn()
        peer = sock.getpeername()[0]
        if not public_address(peer) and not (self.allow_loopback and ipaddress.ip_address(peer).is_loopback):
            sock.close()
            raise NewConnectionError(self, "push endpoint reached a non-public address")
        return sock


def session(allow_loopback: bool = False) -> requests.Session:
    """The HTTP session pushes go out on: no redirects, no proxies from the environment, public peers only."""

    def pool(base_pool, base_conn):
        conn = type("Checked" + base_conn.__name__, (_PeerChecked, base_conn), {"allow_loopback": allow_loopback})
        return type("Checked" + base_pool.__name__, (base_pool,), {"ConnectionCls": conn})

    class Adapter(HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": pool(HTTPConnectionPool, HTTPConnection),
                                                        "https": pool(HTTPSConnectionPool, HTTPSConnection)}

    class NoRedirects(requests.Session):
        def request(self, *args, **kwargs):
            kwargs["allow_redirects"] = False  # a push service never redirects; a 3xx is a failed push
            return super().request(*args, **kwargs)

    s = NoRedirects()
    s.trust_env = False  # an HTTPS_PROXY would be the peer instead and bypass the address check
    s.mount("http://", Adapter())
    s.mount("https://", Adapter())
    return s
