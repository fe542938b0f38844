"""DHIS2 compatibility: ``POST /api/v1/dataValueSets/`` with a DHIS2 ``dataValueSets`` JSON
payload, mapped onto the same :func:`~qc_core.reporting.services.save_values` path and answered
with a DHIS2-style import summary.

Mapping: ``orgUnit`` is the unit code, ``dataElement`` the indicator code, ``period`` ``2026Q3`` /
``2026-11``, ``categoryOptionCombo`` ``numerator``/``NUM`` or ``denominator``/``DEN`` (may be
left out for count indicators), ``value`` the number (empty or ``"deleted": true`` clears it).
``dataSet`` is optional: without it the form is the one holding all the reported indicators
with the period's type. The import is atomic: any conflict and nothing is saved (status
``ERROR``). Counts are per data value (a numerator or a denominator).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from qc_core.indicators.api import QcReader
from qc_core.indicators.models import DataSet
from qc_core.indicators.periods import Period
from qc_core.indicators.services import dataset_versions
from qc_core.orgs.models import OrgUnit
from qc_core.reporting import permissions as perms
from qc_core.reporting import services
from qc_core.reporting.api import THROTTLES
from qc_core.reporting.choices import ValueSource
from qc_core.reporting.errors import InputError, ReportingError

COC_NAMES = {
    "numerator": "numerator",
    "num": "numerator",
    "denominator": "denominator",
    "den": "denominator",
}


class _Rollback(Exception):
    """Abort the import transaction after collecting conflicts."""


def _conflict(obj: str, value: str, indexes: list[int], code: str = "E7600") -> dict[str, Any]:
    return {"object": obj, "value": value, "errorCode": code, "indexes": indexes}


def summary(
    status: str, counts: dict[str, int], conflicts: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "responseType": "ImportSummary",
        "status": status,
        "importCount": {k: counts.get(k, 0) for k in ("imported", "updated", "ignored", "deleted")},
        "conflicts": conflicts,
    }
    body.update(extra)
    return body


class Row:
    """One dataValue of the payload after mapping."""

    def __init__(
        self, index: int, unit: str, period: str, code: str, part: str, raw: Any, comment: Any
    ) -> None:
        self.index, self.unit, self.period, self.code = index, unit, period, code
        self.part, self.raw, self.comment = part, raw, comment


def parse_payload(payload: Any) -> tuple[list[Row], list[dict[str, Any]], str]:
    """Rows and conflicts from a dataValueSets body; also the top-level dataSet code."""
    if not isinstance(payload, dict) or not isinstance(payload.get("dataValues"), list):
        return (
            [],
            [_conflict("dataValues", _("请求体应为 JSON 对象，并包含 dataValues 列表。"), [])],
            "",
        )
    top_unit = str(payload.get("orgUnit") or "").strip()
    top_period = str(payload.get("period") or "").strip()
    rows, conflicts = [], []
    for i, dv in enumerate(payload["dataValues"]):
        if not isinstance(dv, dict):
            conflicts.append(
                _conflict(str(i), _("第 %(n)d 个数据值应为对象。") % {"n": i + 1}, [i])
            )
            continue
        unit = str(dv.get("orgUnit") or top_unit).strip()
        period = str(dv.get("period") or top_period).strip()
        code = str(dv.get("dataElement") or "").strip()
        missing = [
            n for n, v in (("orgUnit", unit), ("period", period), ("dataElement", code)) if not v
        ]
        if missing:
            conflicts.append(
                _conflict(
                    code or str(i),
                    _("第 %(n)d 个数据值缺少 %(f)s。")
                    % {"n": i + 1, "f": pgettext("list separator", "、").join(missing)},
                    [i],
                )
            )
            continue
        coc = str(dv.get("categoryOptionCombo") or "").strip().lower()
        if coc and coc not in COC_NAMES:
            conflicts.append(
                _conflict(
                    code,
                    _("categoryOptionCombo“%(c)s”无效，应为 numerator/NUM 或 denominator/DEN。")
                    % {"c": dv.get("categoryOptionCombo")},
                    [i],
                    "E7616",
                )
            )
            continue
        raw = None if dv.get("deleted") in (True, "true") else dv.get("value")
        rows.append(Row(i, unit, period, code, COC_NAMES.get(coc, ""), raw, dv.get("comment")))
    return rows, conflicts, str(payload.get("dataSet") or "").strip()


def _pick_dataset(
    code: str, period: str, indicator_codes: set[str], unit: OrgUnit
) -> DataSet | str:
    """The form for one (unit, period) group, or a Chinese reason why none fits."""
    if code:
        dataset = DataSet.objects.filter(code=code, is_active=True).first()
        return dataset or _("报表“%(c)s”不存在或已停用。") % {"c": code}
    try:
        period_type = Period.parse(period).type
    except ValueError as exc:
        return str(exc)
    candidates = [
        ds
        for ds in DataSet.objects.filter(is_active=True, period_type=period_type, units=unit)
        if indicator_codes <= set(ds.items.values_list("indicator__code", flat=True))
    ]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        return _("没有找到同时包含这些指标、按该周期填报并分配给该单位的报表，请指定 dataSet。")
    return _("有多个报表包含这些指标，请指定 dataSet。")


def _merge(
    group: list[Row], dataset: DataSet, conflicts: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The group's data values as save_values input (numerator and denominator joined)."""
    versions = {item.indicator.code: v for item, v in dataset_versions(dataset)}
    merged: dict[str, dict[str, Any]] = {}
    for row in group:
        version = versions.get(row.code)
        part = row.part
        if version is not None and not part:
            if version.has_denominator:
                conflicts.append(
                    _conflict(
                        row.code,
                        _(
                            "%(c)s 有分子和分母，请用 categoryOptionCombo 指明 numerator 或 denominator。"
                        )
                        % {"c": row.code},
                        [row.index],
                        "E7616",
                    )
                )
                continue
            part = "numerator"
        row.part = part or "numerator"
        entry = merged.setdefault(row.code, {"indicator": row.code})
        entry[row.part] = row.raw
        if row.comment not in (None, ""):
            entry["comment"] = row.comment
    return list(merged.values())


def _plan(
    rows: list[Row], dataset_code: str, user: Any, conflicts: list[dict[str, Any]]
) -> tuple[int, list[tuple[OrgUnit, DataSet, str, list[Row], list[dict[str, Any]]]]]:
    """Resolve each (unit, period) group to a form; returns the HTTP status for refusals."""
    groups: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for row in rows:
        groups[(row.unit, row.period)].append(row)
    units = {u.code: u for u in OrgUnit.objects.filter(code__in={k[0] for k in groups})}
    http_status = 409
    plans = []
    for (unit_code, period), group in groups.items():
        indexes = [r.index for r in group]
        unit = units.get(unit_code)
        if unit is None or not perms.can_read(user, unit):
            conflicts.append(
                _conflict(
                    unit_code,
                    _("单位“%(c)s”不存在，或您无权访问。") % {"c": unit_code},
                    indexes,
                    "E7603",
                )
            )
            continue
        if not perms.can_write(user, unit):
            http_status = 403
            conflicts.append(
                _conflict(
                    unit_code,
                    _("您没有填报单位“%(c)s”数据的权限。") % {"c": unit_code},
                    indexes,
                    "E7604",
                )
            )
            continue
        dataset = _pick_dataset(dataset_code, period, {r.code for r in group}, unit)
        if isinstance(dataset, str):
            conflicts.append(_conflict(dataset_code or unit_code, dataset, indexes, "E7605"))
            continue
        plans.append((unit, dataset, period, group, _merge(group, dataset, conflicts)))
    return http_status, plans


def import_data_value_set(payload: Any, user: Any) -> tuple[int, dict[str, Any]]:
    """Import a dataValueSets payload for ``user``; returns ``(http_status, import_summary)``.
    Every problem is reported at once; any problem and nothing is saved."""
    rows, conflicts, dataset_code = parse_payload(payload)
    total = len(payload.get("dataValues", [])) if isinstance(payload, dict) else 0
    http_status, plans = _plan(rows, dataset_code, user, conflicts)
    if conflicts:
        return http_status, summary("ERROR", {"ignored": total}, conflicts)
    counts: dict[str, int] = defaultdict(int)
    results: list[dict[str, Any]] = []
    try:
        with transaction.atomic():
            for unit, dataset, period, group, values in plans:
                _save_group(unit, dataset, period, group, values, user, counts, results, conflicts)
            if conflicts:
                raise _Rollback
    except _Rollback:
        return 409, summary("ERROR", {"ignored": total}, conflicts)
    except PermissionDenied as exc:
        return 403, summary("ERROR", {"ignored": total}, [_conflict("", str(exc), [], "E7604")])
    return 200, summary("SUCCESS", counts, [], validation=results)


def _save_group(
    unit: OrgUnit,
    dataset: DataSet,
    period: str,
    group: list[Row],
    values: list[dict[str, Any]],
    user: Any,
    counts: dict[str, int],
    results: list[dict[str, Any]],
    conflicts: list[dict[str, Any]],
) -> None:
    try:
        submission, _created = services.get_or_create_draft(unit, dataset, period, user)
        result = services.save_values(submission, values, user, ValueSource.DHIS2)
    except InputError as exc:
        by_code: dict[str, list[int]] = defaultdict(list)
        for row in group:
            by_code[row.code].append(row.index)
        for err in exc.errors:
            code = str(err.get("indicator") or "")
            conflicts.append(
                _conflict(code or unit.code, str(err["message"]), by_code.get(code, []), "E7619")
            )
        return
    except ReportingError as exc:
        indexes = [r.index for r in group]
        conflicts.append(_conflict(f"{unit.code} {period}", exc.message, indexes, "E7641"))
        return
    for row in group:
        changed = result.changed.get(row.code, set())
        if row.part not in changed:
            counts["ignored"] += 1
        elif row.code in result.created_codes:
            counts["imported"] += 1
        elif row.raw in (None, ""):
            counts["deleted"] += 1
        else:
            counts["updated"] += 1
    results.extend(result.results)


class DataValueSetView(APIView):
    """DHIS2-style import: ``POST /api/v1/dataValueSets/`` (see the module docstring)."""

    permission_classes = [QcReader]
    throttle_classes = THROTTLES

    @extend_schema(
        request=inline_serializer(
            "DataValueSet",
            {
                "dataSet": serializers.CharField(required=False),
                "period": serializers.CharField(),
                "orgUnit": serializers.CharField(),
                "dataValues": serializers.ListField(child=serializers.DictField()),
            },
        ),
        responses=inline_serializer(
            "ImportSummary",
            {
                "status": serializers.CharField(),
                "importCount": serializers.DictField(child=serializers.IntegerField()),
                "conflicts": serializers.ListField(child=serializers.DictField()),
            },
        ),
    )
    def post(self, request: Request) -> Response:
        http_status, body = import_data_value_set(request.data, request.user)
        return Response(body, status=http_status)
