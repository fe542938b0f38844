"""Request context for the audit trail, and the record of refused requests."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from qc_core.audit.context import reset_current_request, set_current_request


class AuditContextMiddleware:
    """Make the current request available to :mod:`qc_core.audit.services` for the duration of
    the request, and record an ``access_denied`` entry when a signed-in user is answered 403."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = set_current_request(request)
        try:
            response = self.get_response(request)
            if response.status_code == 403:
                self._record_denied(request)
            return response
        finally:
            reset_current_request(token)

    @staticmethod
    def _record_denied(request: HttpRequest) -> None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return
        from qc_core.audit.choices import Action
        from qc_core.audit.services import record

        record(
            Action.ACCESS_DENIED,
            request=request,
            extra={"method": request.method, "path": request.path[:300]},
        )
