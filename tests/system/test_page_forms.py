"""Every form of the web interface refuses a post without its CSRF token.

Another site's page can make a signed-in browser post to any of these
addresses; it cannot read the token that the real form carries. So each
POST route answers 403 before it reads or changes anything, whether the
browser is signed in or not.
"""

from __future__ import annotations

import re

import httpx
from starlette.routing import Route

from lockgate.testing.server import LiveServer
from lockgate.web.ui.routes import routes as page_routes

_SAMPLES = {"project": "demo", "tenant": "main", "path": "a.txt"}


def _sample_path(route: Route) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[0]
        return _SAMPLES.get(name, "1")

    return re.sub(r"\{([^}]+)\}", value, route.path)


def _form_posts() -> list[str]:
    return [
        _sample_path(route)
        for route in page_routes
        if isinstance(route, Route) and "POST" in (route.methods or set())
    ]


def test_every_page_form_refuses_a_post_without_its_token(sqlite_server: LiveServer) -> None:
    server = sqlite_server
    posts = _form_posts()
    assert "/login" in posts and "/logout" in posts
    with httpx.Client(base_url=server.url) as anonymous, httpx.Client(base_url=server.url) as admin:
        login = admin.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', login)
        assert token is not None
        username, password = server.admin
        signed_in = admin.post(
            "/login",
            data={"csrf_token": token.group(1), "username": username, "password": password},
        )
        assert signed_in.status_code == 303 and "lockgate_session" in admin.cookies
        for path in posts:
            for client in (anonymous, admin):
                refused = client.post(path, data={"message": "forged"})
                assert refused.status_code == 403, (path, refused.status_code, refused.text[:200])
                assert "security token" in refused.text, path
        # Still signed in: a refused form does not end the session.
        assert admin.get("/settings").status_code == 200
