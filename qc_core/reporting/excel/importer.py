"""Excel import: read the workbook, plan it per unit, then write every unit's values through
:func:`qc_core.reporting.services.save_values` (source ``import``) inside ONE transaction.

- A dry run (the preview) performs the very same writes and rolls them back, so the preview shows
  exactly what the services would do: each cell's old → new value, the validation results and
  every refusal (approved or locked forms, no permission, window not open), per unit and row.
- A commit writes all units or none: any problem — a bad cell, an unknown indicator, a refused
  form, a validation *error* on an imported value — rolls everything back.
- A commit of a previewed upload passes the form versions the preview saw, so a form edited
  elsewhere in between is refused instead of silently overwritten.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from qc_core.audit.choices import Action
from qc_core.audit.services import record
from qc_core.indicators.choices import Severity
from qc_core.reporting import services
from qc_core.reporting.choices import ValueSource
from qc_core.reporting.errors import ConflictError, InputError, ReportingError
from qc_core.reporting.excel.layout import FIELD_LABELS
from qc_core.reporting.excel.plan import ImportOptions, Planner, UnitPlan, rows_by_code
from qc_core.reporting.excel.reader import (
    DENIED,
    NOT_FOUND,
    NOTICE,
    FileRefused,
    Problem,
    read_workbook,
)
from qc_core.reporting.models import Submission

__all__ = ["ImportOptions", "ImportReport", "import_workbook", "sha256_of"]


class _Rollback(Exception):
    pass


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class ImportReport:
    """The outcome of an import or preview, renderable as is and storable as JSON."""

    file_name: str
    sha256: str
    dry_run: bool
    committed: bool = False
    problems: list[Problem] = field(default_factory=list)
    units: list[dict[str, Any]] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.blocking]

    @property
    def notices(self) -> list[Problem]:
        return [p for p in self.problems if not p.blocking]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def status_code(self) -> int:
        kinds = {p.kind for p in self.errors}
        if NOT_FOUND in kinds:
            return 404
        if DENIED in kinds:
            return 403
        return 200

    def as_dict(self, limit: int | None = None) -> dict[str, Any]:
        """JSON-ready; with ``limit``, at most that many changes and warnings per unit (and
        ten times as many problems) are listed — the totals still count them all."""
        units = []
        for unit in self.units:
            shown = dict(unit, changes_total=len(unit["changes"]))
            if limit is not None:
                shown["changes"] = unit["changes"][:limit]
                shown["warnings"] = unit["warnings"][:limit]
            units.append(shown)
        problem_limit = None if limit is None else limit * 10
        return {
            "file_name": self.file_name,
            "sha256": self.sha256,
            "dry_run": self.dry_run,
            "committed": self.committed,
            "ok": self.ok,
            "status_code": self.status_code,
            "errors": [p.as_dict() for p in self.errors[:problem_limit]],
            "errors_total": len(self.errors),
            "notices": [p.as_dict() for p in self.notices[:problem_limit]],
            "units": units,
            "expected_versions": {u["key"]: u["row_version"] for u in self.units},
            "totals": {
                "units": len(self.units),
                "changes": sum(len(u["changes"]) for u in self.units),
                "rows": sum(u["rows"] for u in self.units),
                "warnings": sum(len(u["warnings"]) for u in self.units),
            },
        }


def import_workbook(
    data: bytes, user: Any, options: ImportOptions | None = None, *, commit: bool
) -> ImportReport:
    """Preview (``commit=False``) or import (``commit=True``) the workbook ``data``."""
    options = options or ImportOptions()
    report = ImportReport(
        file_name=options.file_name, sha256=options.sha256 or sha256_of(data), dry_run=not commit
    )
    try:
        content = read_workbook(data, options.file_name or "upload.xlsx")
    except FileRefused as exc:
        report.problems.append(Problem(exc.message))
        return report
    planner = Planner(user, options)
    plans = planner.plan(content)
    report.problems.extend(planner.problems)
    if commit and report.errors:
        # Nothing is written when the file itself is wrong; the preview said so already.
        return report
    apply_plans(plans, user, options, report, commit=commit)
    return report


def apply_plans(
    plans: list[UnitPlan], user: Any, options: ImportOptions, report: ImportReport, *, commit: bool
) -> None:
    """Write every plan in one transaction; roll back for a dry run or on any blocking problem."""
    try:
        with transaction.atomic():
            for plan in plans:
                report.units.append(_apply(plan, user, options, report.problems))
            if commit and report.ok and plans:
                _audit(report, user, plans)
            if not commit or not report.ok:
                raise _Rollback
    except _Rollback:
        report.committed = False
        return
    report.committed = bool(plans)


def _apply(
    plan: UnitPlan, user: Any, options: ImportOptions, problems: list[Problem]
) -> dict[str, Any]:
    outcome: dict[str, Any] = {
        "key": plan.key,
        "unit": plan.unit.code,
        "unit_name": plan.unit.name,
        "dataset": plan.dataset.code,
        "dataset_name": plan.dataset.name,
        "period": plan.period,
        "sheet": plan.sheet,
        "rows": len(plan.rows),
        "row_version": 0,
        "status": "",
        "new_form": False,
        "ok": False,
        "changes": [],
        "warnings": [],
    }
    before_problems = len(problems)

    def unit_problem(message: str, kind: str = "error") -> None:
        problems.append(Problem(message, sheet=plan.sheet, unit=plan.unit.code,
                                period=plan.period, kind=kind))  # fmt: skip

    expected = None
    if options.expected_versions is not None:
        expected = options.expected_versions.get(plan.key, 0)
    try:
        submission, created = services.get_or_create_draft(
            plan.unit, plan.dataset, plan.period, user
        )
        outcome.update(row_version=submission.row_version, new_form=created,
                       status=submission.get_status_display())  # fmt: skip
        before = _current_values(submission)
        _stale_template_notice(plan, submission, unit_problem)
        values = [{"indicator": r.code, **r.values} for r in plan.rows]
        result = services.save_values(
            submission, values, user, ValueSource.IMPORT, expected_version=expected
        )
    except PermissionDenied as exc:
        unit_problem(str(exc) or _("您没有修改该单位数据的权限。"), DENIED)
        return outcome
    except ConflictError:
        unit_problem(_("预览之后，该报表的数据已被他人修改；为避免覆盖，请重新上传并预览。"))
        return outcome
    except InputError as exc:
        _input_problems(plan, exc, problems)
        return outcome
    except ReportingError as exc:
        unit_problem(exc.message)
        return outcome
    rows = rows_by_code(plan)
    for code, fields in sorted(result.changed.items()):
        row = rows.get(code)
        value = result.values[code]
        for name in ("numerator", "denominator", "comment", "justification"):
            if name not in fields:
                continue
            outcome["changes"].append({
                "indicator": code,
                "name": row.version.name if row else code,
                "field": name,
                "field_label": str(FIELD_LABELS.get(name, name)),
                "old": _shown(before.get(code, {}).get(name)),
                "new": _shown(getattr(value, name)),
                "row": row.row.number if row else None,
                "column": row.row.column(name) if row else "",
            })  # fmt: skip
    _validation(plan, result.results, outcome, problems)
    outcome["ok"] = not any(p.blocking for p in problems[before_problems:])
    return outcome


def _current_values(submission: Submission) -> dict[str, dict[str, Any]]:
    rows = submission.values.values_list(
        "indicator__code", "numerator", "denominator", "comment", "justification"
    )
    return {
        code: {"numerator": n, "denominator": d, "comment": c, "justification": j}
        for code, n, d, c, j in rows
    }


def _stale_template_notice(plan: UnitPlan, submission: Submission, add: Any) -> None:
    seen = plan.template_meta.get("row_version") or ""
    if seen and str(submission.row_version) != seen:
        add(
            _("模板下载之后，该报表的数据已在网页或其他途径修改过；导入将以文件内容为准，"
              "请仔细核对下面的变更。"),
            NOTICE,
        )  # fmt: skip


def _input_problems(plan: UnitPlan, exc: InputError, problems: list[Problem]) -> None:
    rows = rows_by_code(plan)
    for err in exc.errors:
        row = rows.get(str(err.get("indicator") or ""))
        name = str(err.get("field") or "")
        cell = row.row.cells.get(name) if row else None
        problems.append(
            Problem(
                str(err["message"]),
                sheet=plan.sheet,
                row=row.row.number if row else None,
                column=cell.column if cell else (row.row.column("code") if row else ""),
                field=name if cell else "code",
                unit=plan.unit.code,
                period=plan.period,
            )
        )


def _validation(
    plan: UnitPlan, results: list[dict[str, Any]], outcome: dict[str, Any], problems: list[Problem]
) -> None:
    """Errors on imported values block the import; warnings and notices are listed (warnings
    will need a justification before the form can be submitted)."""
    rows = rows_by_code(plan)
    for res in results:
        row = rows.get(res["indicator"])
        name = str(res.get("field") or "")
        name = name if name in ("numerator", "denominator") else "code"
        where = Problem("", sheet=plan.sheet, row=row.row.number if row else None,
                        column=row.row.column(name) if row else "", field=name)  # fmt: skip
        if res["severity"] == Severity.ERROR and row is not None:
            where.message = str(res["message"])
            where.unit, where.period = plan.unit.code, plan.period
            problems.append(where)
        elif res["severity"] != Severity.ERROR:
            outcome["warnings"].append({
                "indicator": res["indicator"],
                "severity": res["severity"],
                "justified": bool(res.get("justified")),
                "message": str(res["message"]),
                "where": where.location() if row else "",
            })  # fmt: skip


def _audit(report: ImportReport, user: Any, plans: list[UnitPlan]) -> None:
    units = {p.unit.pk: p.unit for p in plans}
    record(
        Action.OTHER,
        user=user,
        object_type="reporting.excel_import",
        object_repr=_("Excel 导入：%(f)s") % {"f": report.file_name or "—"},
        org_unit=next(iter(units.values())) if len(units) == 1 else None,
        extra={
            "file": report.file_name,
            "sha256": report.sha256,
            "forms": [p.key for p in plans],
            "changes": sum(len(u["changes"]) for u in report.units),
        },
    )


def _shown(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, Decimal):
        text = format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return str(value)
