"""Saving values into a submission — one path for the web form, Excel import, the JSON API and
DHIS2 payloads — plus snapshots of a form's values."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from qc_core.audit.choices import Action
from qc_core.audit.services import record
from qc_core.indicators.models import IndicatorVersion
from qc_core.indicators.services import dataset_versions
from qc_core.reporting import permissions as perms
from qc_core.reporting.choices import ValueSource
from qc_core.reporting.errors import ConflictError, InputError, NotEditable
from qc_core.reporting.models import DataValue, Submission, ValueChange
from qc_core.reporting.validation import cells_from_values, validate_cells
from qc_core.system import clock

MAX_INTEGER_DIGITS = 14
MAX_DECIMALS = 4
NUMBER_FIELDS = ("numerator", "denominator")
TEXT_FIELDS = ("comment", "justification")
TEXT_MAX = 2000


@dataclass
class SaveResult:
    """What :func:`save_values` did, and the form's validation results afterwards."""

    submission: Submission
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    cleared: int = 0
    results: list[dict[str, Any]] = field(default_factory=list)
    values: dict[str, DataValue] = field(default_factory=dict)
    # Per indicator code: the fields this save changed; and the codes whose value it created.
    changed: dict[str, set[str]] = field(default_factory=dict)
    created_codes: set[str] = field(default_factory=set)

    def results_for(self, code: str) -> list[dict[str, Any]]:
        return [r for r in self.results if r["indicator"] == code]


def parse_number(raw: Any) -> Decimal | None:
    """A cell value as a Decimal (``None`` for empty); raises ``ValueError`` (Chinese) when it is
    not a plain number or has too many digits."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise ValueError(_("不是数字"))
    if isinstance(raw, Decimal):
        number = raw
    elif isinstance(raw, int):
        number = Decimal(raw)
    elif isinstance(raw, float):
        number = Decimal(repr(raw))
    else:
        text = str(raw).strip()
        if text == "":
            return None
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(_("“%(v)s”不是数字") % {"v": text[:30]}) from None
    if not number.is_finite():
        raise ValueError(_("不是有效数字"))
    exponent = number.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > MAX_DECIMALS:
        raise ValueError(_("最多保留 %(n)d 位小数") % {"n": MAX_DECIMALS})
    if abs(number) >= Decimal(10) ** MAX_INTEGER_DIGITS:
        raise ValueError(_("数值过大"))
    return number


_FIELD_LABEL = {
    "numerator": "分子",
    "denominator": "分母",
    "comment": "备注",
    "justification": "情况说明",
}


def parse_values(
    values: list[dict[str, Any]], versions: dict[str, IndicatorVersion], dataset_code: str
) -> dict[str, dict[str, Any]]:
    """Validate the shape of incoming values: ``{code: {field: value}}`` with only the fields the
    caller sent. Raises :class:`InputError` listing every problem (nothing is saved)."""
    errors: list[dict[str, Any]] = []
    parsed: dict[str, dict[str, Any]] = {}
    if not isinstance(values, list):
        raise InputError([{"indicator": "", "field": "values", "message": _("values 应为列表。")}])
    for n, item in enumerate(values, start=1):
        if not isinstance(item, dict):
            errors.append(
                {
                    "indicator": "",
                    "field": "values",
                    "message": _("第 %(n)d 项应为对象。") % {"n": n},
                }
            )
            continue
        code = str(item.get("indicator") or "").strip()
        version = versions.get(code)
        if version is None:
            errors.append(
                {
                    "indicator": code,
                    "field": "indicator",
                    "message": _("第 %(n)d 项：指标“%(code)s”不在报表 %(ds)s 中。")
                    % {"n": n, "code": code, "ds": dataset_code},
                }
            )
            continue
        if code in parsed:
            errors.append(
                {
                    "indicator": code,
                    "field": "indicator",
                    "message": _("指标 %(code)s 重复出现。") % {"code": code},
                }
            )
            continue
        fields: dict[str, Any] = {}
        for name in NUMBER_FIELDS:
            if name not in item:
                continue
            try:
                fields[name] = parse_number(item[name])
            except ValueError as exc:
                errors.append(
                    {
                        "indicator": code,
                        "field": name,
                        "message": _("%(code)s %(label)s：%(reason)s。")
                        % {"code": code, "label": _(_FIELD_LABEL[name]), "reason": exc},
                    }
                )
        if fields.get("denominator") is not None and not version.has_denominator:
            errors.append(
                {
                    "indicator": code,
                    "field": "denominator",
                    "message": _("%(code)s 是计数型指标，没有分母。") % {"code": code},
                }
            )
        for name in TEXT_FIELDS:
            if name in item:
                text = "" if item[name] is None else str(item[name]).strip()
                if len(text) > TEXT_MAX:
                    errors.append(
                        {
                            "indicator": code,
                            "field": name,
                            "message": _("%(code)s %(label)s过长（最多 %(n)d 字）。")
                            % {"code": code, "label": _(_FIELD_LABEL[name]), "n": TEXT_MAX},
                        }
                    )
                fields[name] = text
        parsed[code] = fields
    if errors:
        raise InputError(errors)
    return parsed


def save_values(
    submission: Submission,
    values: list[dict[str, Any]],
    user: Any,
    source: str = ValueSource.WEB,
    *,
    expected_version: int | None = None,
) -> SaveResult:
    """Write ``values`` (``[{"indicator": code, "numerator"?, "denominator"?, "comment"?,
    "justification"?}]``; fields left out stay as they are, ``None`` clears) into ``submission``.

    All or nothing: malformed input raises :class:`InputError` and nothing is saved. Refused with
    :class:`NotEditable` when the form is approved, under review or outside its entry window
    (unless reopened), with :class:`ConflictError` when ``expected_version`` is given and another
    save happened since. Each changed value gets a :class:`ValueChange`; the whole save one audit
    entry. Returns the counts and the form's validation results (values with errors are kept as
    a draft: errors block only submission).
    """
    from qc_core.reporting.services import edit_block_reason

    token = perms.token_of(user)
    actor = user if getattr(user, "pk", None) else None
    with transaction.atomic():
        sub = (
            Submission.objects.select_for_update()
            .select_related("org_unit", "dataset")
            .get(pk=submission.pk)
        )
        if user is not None and not perms.can_write(user, sub.org_unit):
            raise PermissionDenied(_("您没有修改该单位数据的权限。"))
        reason = edit_block_reason(sub)
        if reason:
            raise NotEditable(reason)
        if expected_version is not None and expected_version != sub.row_version:
            raise ConflictError(
                _("该报表已被他人修改（当前数据版本 %(v)d），请刷新后再保存。")
                % {"v": sub.row_version},
                sub.row_version,
            )
        pairs = dataset_versions(sub.dataset)
        versions = {item.indicator.code: version for item, version in pairs}
        incoming = parse_values(values, versions, sub.dataset.code)
        existing = {v.indicator_id: v for v in sub.values.select_related("indicator_version")}
        result = SaveResult(submission=sub)
        now = clock.now()
        to_create: list[DataValue] = []
        to_update: list[DataValue] = []
        changes: list[tuple[DataValue, dict[str, Any]]] = []
        audit: dict[str, Any] = {}
        for code, fields in incoming.items():
            version = versions[code]
            value = existing.get(version.indicator_id)
            if value is None:
                if all(fields.get(n) in (None, "") for n in (*NUMBER_FIELDS, *TEXT_FIELDS)):
                    result.unchanged += 1
                    continue
                value = DataValue(
                    submission=sub, indicator_id=version.indicator_id, indicator_version=version
                )
                before = dict.fromkeys(NUMBER_FIELDS) | dict.fromkeys(TEXT_FIELDS, "")
            else:
                before = {n: getattr(value, n) for n in (*NUMBER_FIELDS, *TEXT_FIELDS)}
            diff = {n: v for n, v in fields.items() if _differs(before[n], v)}
            if not diff:
                result.unchanged += 1
                result.values[code] = value
                continue
            for name, new in diff.items():
                setattr(value, name, new)
                audit[f"{code}.{name}"] = [_plain(before[name]), _plain(new)]
            if any(n in diff for n in NUMBER_FIELDS) and value.indicator_version_id != version.pk:
                value.indicator_version = version
                diff["indicator_version"] = version
            value.updated_by, value.updated_by_token = actor, token
            value.updated_at, value.source = now, source
            result.changed[code] = set(diff)
            if value.pk is None:
                to_create.append(value)
                result.created += 1
                result.created_codes.add(code)
            else:
                to_update.append(value)
                if all(getattr(value, n) is None for n in NUMBER_FIELDS) and any(
                    before[n] is not None for n in NUMBER_FIELDS
                ):
                    result.cleared += 1
                else:
                    result.updated += 1
            result.values[code] = value
            changes.append((value, before))
        if to_create:
            DataValue.objects.bulk_create(to_create)
        if to_update:
            # Only the columns that changed differ per row (bulk_update builds one CASE per
            # column and row); the columns common to the whole save are one plain UPDATE.
            per_row = sorted(set().union(*result.changed.values()))
            DataValue.objects.bulk_update(to_update, per_row)
            DataValue.objects.filter(pk__in=[v.pk for v in to_update]).update(
                updated_by=actor, updated_by_token=token, updated_at=now, source=source
            )
        if changes:
            ValueChange.objects.bulk_create(
                [_change(v, before, sub, actor, token, now, source) for v, before in changes]
            )
            Submission.objects.filter(pk=sub.pk).update(
                row_version=F("row_version") + 1, updated_at=now
            )
            sub.row_version += 1
            sub.updated_at = now
            record(
                Action.UPDATE,
                user=user,
                obj=sub,
                changes=audit,
                extra={"source": str(source), "values": len(changes)},
            )
        code_by_id = {item.indicator_id: item.indicator.code for item, _v in pairs}
        for value in existing.values():
            result.values.setdefault(code_by_id.get(value.indicator_id, ""), value)
    submission.row_version, submission.updated_at = sub.row_version, sub.updated_at
    cells = cells_from_values(sub, list(result.values.values()), pairs=pairs)
    result.results = validate_cells(sub, cells)
    return result


def _differs(old: Any, new: Any) -> bool:
    if isinstance(old, Decimal) and isinstance(new, Decimal):
        return old != new
    return bool(old != new)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return value


def _change(
    value: DataValue,
    before: dict[str, Any],
    sub: Submission,
    actor: Any,
    token: Any,
    now: Any,
    source: str,
) -> ValueChange:
    return ValueChange(
        value=value,
        submission=sub,
        changed_by=actor,
        changed_by_token=token,
        changed_at=now,
        old_numerator=before["numerator"],
        new_numerator=value.numerator,
        old_denominator=before["denominator"],
        new_denominator=value.denominator,
        old_comment=before["comment"],
        new_comment=value.comment,
        source=source,
    )


def snapshot(submission: Submission) -> dict[str, dict[str, Any]]:
    """All values of the form as plain JSON: ``{code: {numerator, denominator, comment,
    justification, version}}`` (numbers as strings)."""
    rows = submission.values.values_list(
        "indicator__code",
        "numerator",
        "denominator",
        "comment",
        "justification",
        "indicator_version__version",
    )
    return {
        code: {
            "numerator": None if num is None else _plain(num),
            "denominator": None if den is None else _plain(den),
            "comment": comment,
            "justification": justification,
            "version": version,
        }
        for code, num, den, comment, justification, version in rows
    }
