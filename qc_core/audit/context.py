"""Who and where: the current request, kept in a context variable by AuditContextMiddleware so
that entries recorded deep inside services (model changes) know the user, IP and browser."""

from __future__ import annotations

import ipaddress
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.http import HttpRequest

_current_request: ContextVar[HttpRequest | None] = ContextVar("audit_current_request", default=None)

USER_AGENT_MAX = 300


def current_request() -> HttpRequest | None:
    return _current_request.get()


def set_current_request(request: HttpRequest | None) -> Any:
    """Set the request for this context; returns a token for :func:`reset_current_request`."""
    return _current_request.set(request)


def reset_current_request(token: Any) -> None:
    _current_request.reset(token)


def _valid_ip(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return ""


def client_ip(request: HttpRequest) -> str:
    """The client's address. ``REMOTE_ADDR`` unless the site runs behind the TLS proxy
    (``SECURE_PROXY_SSL_HEADER`` set): then the last ``X-Forwarded-For`` hop, i.e. the address
    our own proxy saw — earlier hops are whatever the client chose to send."""
    if settings.SECURE_PROXY_SSL_HEADER:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [h for h in forwarded.split(",") if h.strip()]
        if hops:
            ip = _valid_ip(hops[-1])
            if ip:
                return ip
    return _valid_ip(request.META.get("REMOTE_ADDR", ""))


def user_agent(request: HttpRequest) -> str:
    return request.META.get("HTTP_USER_AGENT", "").replace("\x00", "")[:USER_AGENT_MAX]
