"""A safety net over every URL the project routes: an anonymous visitor gets nothing.

Every pattern is reversed with placeholder arguments (a real code, a random UUID or number), then
requested without signing in. Only the deliberately public endpoints may answer 200.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

PUBLIC = {
    "/healthz",
    "/readyz",
    "/accounts/login/",
    "/api/schema/",
    "/api/docs/",
    "/i18n/setlang/",
}
PUBLIC_PREFIXES = ("/static/", "/admin/login/", "/admin/logout/", "/admin/password_reset")
# Webhooks authenticate with their own bearer token (closed: 404, else 401); the token endpoint
# answers a credential-less POST with 400 naming the missing fields.
TOKEN_ENDPOINTS = ("/api/v1/intake/", "/metrics", "/api/v1/auth/token/")

PLACEHOLDERS = {
    "int": "1",
    "uuid": str(uuid.uuid4()),
    "str": "HA001",
    "slug": "HA001",
    "path": "x",
}


def _walk(resolver: URLResolver, prefix: str = "") -> Iterator[str]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def _fill(route: str) -> str | None:
    """Turn a route (``jobs/<uuid:pk>/`` or a router regex) into a concrete path, or None."""
    if "format" in route:
        return None  # DRF's ``.json`` suffix variants add nothing
    route = re.sub(r"\(\?P<\w+>[^)]*\)", "1", route)
    route = route.replace("^", "").replace("$", "").replace("\\", "")
    if "(" in route or "?" in route:
        return None

    def converter(match: re.Match[str]) -> str:
        kind = match.group(1) or "str"
        return PLACEHOLDERS.get(kind, "1")

    return "/" + re.sub(r"<(?:(\w+):)?\w+>", converter, route)


def all_paths() -> list[str]:
    paths = set()
    for route in _walk(get_resolver()):
        path = _fill(route)
        if path is None or path.startswith(PUBLIC_PREFIXES):
            continue
        paths.add(path.replace("//", "/"))
    return sorted(paths)


def test_the_crawl_covers_every_app():
    paths = all_paths()
    for prefix in (
        "/api/v1/org-units/",
        "/audit/",
        "/notifications/",
        "/jobs/",
        "/orgs/",
        "/admin/",
    ):
        assert any(p.startswith(prefix) for p in paths), prefix


@pytest.mark.parametrize("path", all_paths())
def test_anonymous_visitor_gets_nothing(client, path):
    response = client.get(path, REMOTE_ADDR="192.0.2.7")  # not on the metrics allowlist
    if path in PUBLIC:
        assert response.status_code in (200, 302, 405)
        return
    if path.startswith(TOKEN_ENDPOINTS):
        assert response.status_code in (401, 403, 404, 405)
        return
    if response.status_code == 302:
        location = response["Location"]
        assert "/login/" in location, f"{path} redirects to {location}"
        return
    assert response.status_code in (401, 403, 404, 405), f"{path} answered {response.status_code}"


@pytest.mark.parametrize(
    "path", [p for p in all_paths() if p not in PUBLIC and not p.startswith("/admin/")]
)
def test_anonymous_post_changes_nothing(client, path):
    from qc_core.audit.models import AuditEntry

    before = AuditEntry.objects.count()
    response = client.post(path, {}, REMOTE_ADDR="192.0.2.7")
    allowed = (
        (302, 400, 401, 403, 404, 405)
        if path.startswith(TOKEN_ENDPOINTS)
        else (302, 401, 403, 404, 405)
    )
    assert response.status_code in allowed, f"{path} answered {response.status_code}"
    if response.status_code == 302:
        assert "/login/" in response["Location"]
    assert AuditEntry.objects.exclude(action="access_denied").count() == before
