"""A tour of every main page of every role at 360 px, shared by the accessibility test and `make screenshots`.

The pages are found the way a user finds them: the links in the page header (nav and tools) and in the home page's
menu, one child's page, and for the roles that use the offline app, its main views.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

WIDTH, HEIGHT = 360, 740

# (role, demo account) for every role of the demo county (app/demo.py).
ROLES = [("teacher", "teacher1"), ("committee", "committee1"), ("principal", "principal1"),
         ("counsellor", "counsellor1"), ("admin", "admin1"), ("bureau", "bureau1"), ("bureau_admin", "bureauadmin1")]

# The offline app's main views for the roles that work in it; {child} is the first child the app lists.
SHELL_VIEWS = {
    "teacher": ["#/", "#/child/{child}", "#/new/home_visit/{child}", "#/outbox", "#/notifications"],
    "committee": ["#/children", "#/child/{child}", "#/code", "#/outbox", "#/notifications"],
}

# Links that are not pages to look at: switching language, downloads, the offline app (toured on its own).
_SKIP = re.compile(r"^/lang/|\.(xlsx|csv|pdf|zip)$|^/app/|/export|/download")


def login(page, base: str, username: str, password: str) -> None:
    """Log in through the login page, as a user does."""
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("load")
    assert "/login" not in page.url, f"login failed for {username}"


def main_pages(page, base: str) -> list[str]:
    """The paths of the role's main pages, in the order found: home, header links, home menu links, one child."""
    page.goto(base + "/")
    hrefs = page.eval_on_selector_all(
        "header a[href], main ul.menu a[href]", "els => els.map(a => a.getAttribute('href'))")
    child = page.eval_on_selector_all("main a[href^='/children/']", "els => els.map(a => a.getAttribute('href'))")
    child = [h for h in child if re.fullmatch(r"/children/\d+", urlsplit(h).path)][:1]
    paths = ["/"]
    for href in hrefs + child:
        path = urlsplit(href).path if href.startswith("/") else None
        if path and not _SKIP.search(href) and href not in paths:
            paths.append(href)
    return paths


def shell_views(page, base: str, role: str) -> list[str]:
    """Open the offline app and return the hashes of its main views for the role (empty for the others)."""
    views = SHELL_VIEWS.get(role)
    if not views:
        return []
    page.goto(base + "/app/")
    page.wait_for_selector("body[data-ready='1']")
    open_view(page, "#/children")
    first = page.eval_on_selector_all("#jf-view a[href^='#/child/']", "els => els.map(a => a.getAttribute('href'))")
    child = first[0].split("/")[2] if first else None
    return [v.format(child=child) for v in views if child or "{child}" not in v]


def open_view(page, hash_: str, base: str | None = None) -> None:
    """Show one view of the offline app (opening the app first when given its base URL) and let it render."""
    if base is not None and "/app/" not in page.url:
        page.goto(base + "/app/")
        page.wait_for_selector("body[data-ready='1']")
    page.evaluate("h => { location.hash = h }", hash_)
    page.wait_for_load_state("load")
    page.wait_for_timeout(300)


def overflow(page) -> int:
    """How many CSS pixels the page is wider than the screen (0: no sideways scrolling)."""
    return page.evaluate("w => Math.max(0, document.scrollingElement.scrollWidth - w)", WIDTH)
