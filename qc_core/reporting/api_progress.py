"""``GET /api/v1/reporting-progress/?period=2026Q3&dataset=GER-Q[&org_unit=CODE]``: reporting
progress for the province (or the caller's scope), each prefecture and each unit, with the late
and missing units. Scoped like every QC read: sub-center admins see their prefecture, reporters,
hospital leaders and unit tokens their own unit; other roles get 403."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from qc_core.indicators.api import QcReader
from qc_core.orgs.models import OrgUnit
from qc_core.reporting import permissions as perms
from qc_core.reporting.progress import (
    Progress,
    SelectionError,
    UnitProgress,
    compute_progress,
    select,
)

_dt = serializers.DateTimeField()


def _when(value: Any) -> str | None:
    return None if value is None else _dt.to_representation(value)


def _unit(unit: UnitProgress, prefecture_names: dict[str, str]) -> dict[str, Any]:
    return {
        "code": unit.code,
        "name": unit.name,
        "prefecture": unit.prefecture,
        "prefecture_name": prefecture_names.get(unit.prefecture, ""),
        "status": unit.status,
        "status_display": unit.status_display,
        "first_submitted_at": _when(unit.first_submitted_at),
        "last_submitted_at": _when(unit.last_submitted_at),
        "approved_at": _when(unit.approved_at),
        **unit.tally.as_dict(),
    }


def _brief(unit: UnitProgress, prefecture_names: dict[str, str]) -> dict[str, Any]:
    return {
        "code": unit.code,
        "name": unit.name,
        "prefecture": unit.prefecture,
        "prefecture_name": prefecture_names.get(unit.prefecture, ""),
        "submitted": unit.submitted,
        "first_submitted_at": _when(unit.first_submitted_at),
    }


def progress_data(progress: Progress, scope_name: str) -> dict[str, Any]:
    """The JSON body of the endpoint (also usable by other callers)."""
    names = {g.code: g.name for g in progress.groups}
    window = progress.window
    return {
        "dataset": {
            "code": progress.dataset.code,
            "name": progress.dataset.name,
            "period_type": progress.dataset.period_type,
        },
        "period": str(progress.period),
        "period_label": progress.period.label,
        "as_of": _when(progress.as_of),
        "window": {
            "opens_at": _when(window.opens_at),
            "due_at": _when(window.due_at),
            "lock_at": _when(window.lock_at),
            "is_open": window.is_open(progress.as_of),
            "is_past_due": window.is_late(progress.as_of),
        },
        "total": {"name": scope_name, **progress.total.as_dict()},
        "prefectures": [
            {"code": g.code, "name": g.name, **g.tally.as_dict()} for g in progress.groups
        ],
        "units": [_unit(u, names) for u in progress.units],
        "late_units": [_brief(u, names) for u in progress.late_units],
        "missing_units": [_brief(u, names) for u in progress.missing_units],
    }


def scope_name(user: Any, within: OrgUnit | None) -> str:
    """What the ``total`` row covers, in words."""
    if within is not None:
        return within.name
    if perms.reading_scope(user).everything:
        return _("全省")
    return _("我的范围")


_TALLY_DOC = gettext_lazy(
    "expected 应报单位数；submitted 已上报（曾经上报过即计入，含退回修改中、重新上报、重新开放）；"
    "approved 已审核通过；submitted_on_time 首次上报不晚于截止时间；approved_on_time 审核通过不晚于锁定时间；"
    "returned 退回修改中；late 逾期（截止后仍未上报，或首次上报晚于截止时间）；missing 尚未上报；"
    "reporting_rate = submitted ÷ expected；on_time_rate = submitted_on_time ÷ expected。"
)


class ReportingProgressView(APIView):
    """Reporting progress of one data set for one period, scoped to the caller."""

    permission_classes = [QcReader]

    @extend_schema(
        summary=gettext_lazy("上报进度"),
        description=_TALLY_DOC,
        parameters=[
            OpenApiParameter(
                "period",
                OpenApiTypes.STR,
                description=gettext_lazy(
                    "周期，如 2026Q3 或 2026-11；缺省为当前开放填报的最近一期"
                ),
            ),
            OpenApiParameter(
                "dataset",
                OpenApiTypes.STR,
                description=gettext_lazy("报表代码，如 GER-Q；缺省为该周期类型唯一的报表"),
            ),
            OpenApiParameter(
                "org_unit",
                OpenApiTypes.STR,
                description=gettext_lazy("只看该单位（如某州市）及其下级"),
            ),
        ],  # fmt: skip
        responses=inline_serializer(
            "ReportingProgress",
            {
                "dataset": serializers.DictField(),
                "period": serializers.CharField(),
                "window": serializers.DictField(),
                "total": serializers.DictField(),
                "prefectures": serializers.ListField(child=serializers.DictField()),
                "units": serializers.ListField(child=serializers.DictField()),
                "late_units": serializers.ListField(child=serializers.DictField()),
                "missing_units": serializers.ListField(child=serializers.DictField()),
            },
        ),
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        try:
            dataset, period = select(params.get("dataset"), params.get("period"))
        except SelectionError as exc:
            # The field names the parameter; the top-level message carries the reason too.
            raise exceptions.ValidationError(
                {exc.field: [exc.message], "non_field_errors": [exc.message]}
            ) from None
        within = None
        code = (params.get("org_unit") or "").strip()
        if code:
            within = OrgUnit.objects.filter(code=code).first()
            if within is None or not perms.can_read(request.user, within):
                raise exceptions.NotFound(_("单位“%(c)s”不存在，或您无权访问。") % {"c": code})
        progress = compute_progress(dataset, period, user=request.user, within=within)
        return Response(progress_data(progress, scope_name(request.user, within)))
