"""The audit search page and its CSV export (center admins and ops managers only)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from qc_core.accounts.choices import AUDIT_READER_ROLES
from qc_core.accounts.scope import scope_queryset
from qc_core.audit.filters import AuditEntryFilter
from qc_core.audit.models import AuditEntry
from qc_core.audit.registry import registered_types
from qc_core.audit.services import record_export
from qc_core.system.permissions import role_required

PAGE_SIZE = 50
CSV_CHUNK = 2000


def readable_entries(user: Any) -> QuerySet[AuditEntry]:
    """The entries ``user`` may read (audit readers reach the whole province)."""
    qs = AuditEntry.objects.select_related("org_unit")
    return scope_queryset(qs, user, field="org_unit", roles=AUDIT_READER_ROLES)


def _filtered(request: HttpRequest) -> AuditEntryFilter:
    return AuditEntryFilter(request.GET or None, queryset=readable_entries(request.user))


@require_GET
@role_required(*AUDIT_READER_ROLES)
def search(request: HttpRequest) -> HttpResponse:
    filterset = _filtered(request)
    page = Paginator(filterset.qs.order_by("-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/search.html",
        {
            "filter": filterset,
            "page": page,
            "query": query.urlencode(),
            "page_query": f"{query.urlencode()}&" if query else "",
            "object_types": registered_types(),
        },
    )


class _Echo:
    """A file-like object whose write() returns the line, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # A cell starting like a formula would run in Excel; quote it (CSV injection).
    return f"'{text}" if text.startswith(_FORMULA_PREFIXES) else text


def _json_cell(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True) if value else ""


HEADER = [
    gettext_lazy("编号"),
    gettext_lazy("时间"),
    gettext_lazy("用户"),
    gettext_lazy("动作"),
    gettext_lazy("对象类型"),
    gettext_lazy("对象ID"),
    gettext_lazy("对象"),
    gettext_lazy("单位代码"),
    gettext_lazy("单位"),
    gettext_lazy("IP"),
    gettext_lazy("浏览器标识"),
    gettext_lazy("变更内容"),
    gettext_lazy("附加信息"),
    gettext_lazy("哈希"),
]


def _csv_rows(entries: Iterable[AuditEntry]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow([str(h) for h in HEADER])
    for e in entries:
        unit = e.org_unit
        yield writer.writerow(
            [
                _cell(v)
                for v in (
                    e.pk,
                    timezone.localtime(e.ts).strftime("%Y-%m-%d %H:%M:%S"),
                    e.actor_username,
                    e.get_action_display(),
                    e.object_type,
                    e.object_id,
                    e.object_repr,
                    unit.code if unit else "",
                    unit.name if unit else "",
                    e.ip,
                    e.user_agent,
                    _json_cell(e.changes),
                    _json_cell(e.extra),
                    e.hash,
                )
            ]
        )


@require_GET
@role_required(*AUDIT_READER_ROLES)  # type: ignore[arg-type]
def export_csv(request: HttpRequest) -> StreamingHttpResponse:
    """Stream the filtered entries as UTF-8 CSV with a BOM (Excel opens it with the right
    encoding). The export itself is recorded first; the rows are those that existed before it."""
    filterset = _filtered(request)
    qs = filterset.qs
    filters = {k: v for k, v in request.GET.items() if v and k != "page"}
    entry = record_export(
        request, _("审计日志 CSV"), extra={"filters": filters, "rows": qs.count()}
    )
    rows = qs.filter(pk__lt=entry.pk).order_by("-id").iterator(chunk_size=CSV_CHUNK)
    stamp = timezone.localtime(entry.ts).strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(_csv_rows(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    return response
