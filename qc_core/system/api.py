"""API conventions shared by every app: pagination and the one error format.

Errors always look like ``{"status": 403, "code": "permission_denied", "message": "…", "fields": {…}}``
(``fields`` only for validation errors, keyed by field name, each a list of messages). Messages are
in the request's language (Chinese by default).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from rest_framework import exceptions
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class Pagination(PageNumberPagination):
    """``{count, next, previous, results}``; ``?page=N&page_size=M`` (at most 500)."""

    page_size_query_param = "page_size"
    max_page_size = 500


def _flatten(detail: Any) -> Any:
    if isinstance(detail, list):
        return [_flatten(d) for d in detail]
    if isinstance(detail, dict):
        return {k: _flatten(v) for k, v in detail.items()}
    return str(detail)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("未找到，或您无权访问。"))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    body: dict[str, Any] = {"status": response.status_code}
    if isinstance(exc, exceptions.ValidationError):
        body["code"] = "invalid"
        body["message"] = _("提交的数据有误，请检查标出的字段。")
        detail = _flatten(exc.detail)
        if isinstance(detail, dict):
            non_field = detail.pop("non_field_errors", None)
            body["fields"] = detail
            if non_field:
                body["message"] = pgettext("list separator", "；").join(non_field)
        else:
            body["message"] = (
                pgettext("list separator", "；").join(detail)
                if isinstance(detail, list)
                else str(detail)
            )
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        body["code"] = codes if isinstance(codes, str) else "error"
        body["message"] = (
            str(exc.detail) if not isinstance(exc.detail, dict | list) else _flatten(exc.detail)
        )
        wait = getattr(exc, "wait", None)
        if isinstance(exc, exceptions.Throttled) and wait is not None:
            body["message"] = _("请求过于频繁，请 %(s)d 秒后重试。") % {"s": int(wait) + 1}
    response.data = body
    return response
