"""Excel pages: template download, upload → preview → commit, and the quarterly export.

Thin views: the workbook work lives in :mod:`qc_core.reporting.excel`, every write goes through
the reporting services (inside the importer), who may see a unit comes from
:mod:`qc_core.reporting.permissions` / :mod:`qc_core.accounts.scope`. Workbooks with many units
(import) or a large scope (export) run as background jobs (TaskRun).
"""

from __future__ import annotations

import io
import uuid
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qc_core.accounts.choices import Role
from qc_core.accounts.scope import Scope, user_scope, visible_units
from qc_core.audit.services import record_export
from qc_core.indicators.models import DataSet
from qc_core.indicators.periods import Period
from qc_core.orgs.choices import Level
from qc_core.orgs.models import OrgUnit
from qc_core.reporting import permissions as perms
from qc_core.reporting.excel import exporter
from qc_core.reporting.excel import tasks as excel_tasks
from qc_core.reporting.excel.importer import ImportOptions, import_workbook, sha256_of
from qc_core.reporting.excel.reader import (
    FileRefused,
    check_upload,
    max_upload_bytes,
    read_workbook,
)
from qc_core.reporting.excel.tasks import options_from
from qc_core.reporting.excel.template import build_template, template_filename
from qc_core.reporting.excel.uploads import delete_upload, load_upload, save_upload
from qc_core.reporting.page_rows import dataset_or_404, period_or_404, unit_or_404
from qc_core.reporting.services import expected_units
from qc_core.system.models import TaskRun
from qc_core.system.permissions import role_required, user_has_any_role
from qc_core.system.services import start_job

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
IMPORT_ROLES = tuple(perms.WRITE_ROLES)
EXPORT_ROLES = (Role.CENTER_ADMIN, Role.SUBCENTER_ADMIN)
SESSION_KEY = "qc_excel_imports"
KEEP_IN_SESSION = 5


def inline_import_units() -> int:
    """Workbooks with more units than this are previewed and imported as background jobs."""
    return int(getattr(settings, "QC_EXCEL_INLINE_UNITS", 3))


def inline_export_rows() -> int:
    """Exports of more unit-periods than this run as background jobs."""
    return int(getattr(settings, "QC_EXPORT_INLINE_ROWS", 400))


# --- template ----------------------------------------------------------------------------------


def _writable_unit(user: Any, code: str) -> OrgUnit:
    unit = unit_or_404(user, code)
    if not perms.can_write(user, unit):
        raise PermissionDenied(_("您可以查看该单位，但没有填报权限。"))
    return unit


@require_GET
@role_required(*IMPORT_ROLES)
def excel_home(request: HttpRequest) -> HttpResponse:
    """Choose a unit, data set and period to download a template; links to upload and export."""
    units = (
        visible_units(request.user, perms.WRITE_ROLES)
        .filter(level=Level.INSTITUTION, datasets__isnull=False)
        .distinct()
        .order_by("path")
    )
    datasets = DataSet.objects.filter(is_active=True).order_by("code")
    defaults = {d.code: str(Period.last_ended(d.period_type)) for d in datasets}
    return render(request, "reporting/excel_home.html", {
        "units": units[:2000], "datasets": datasets, "default_periods": defaults,
        "default_period": next(iter(defaults.values()), ""),
        "can_export": user_has_any_role(request.user, EXPORT_ROLES),
    })  # fmt: skip


@require_GET
@role_required(*IMPORT_ROLES)
def excel_template_pick(request: HttpRequest) -> HttpResponse:
    """The home page's GET form → the template URL."""
    unit = request.GET.get("unit", "").strip()
    dataset = request.GET.get("dataset", "").strip()
    period = request.GET.get("period", "").strip().upper()
    if not (unit and dataset and period):
        raise Http404(_("请选择单位、报表和周期。"))
    return redirect("reporting:excel_template", unit, dataset, period)


@require_GET
@role_required(*IMPORT_ROLES)
def excel_template(request: HttpRequest, unit: str, dataset: str, period: str) -> HttpResponse:
    """The pre-filled template of one unit's form (audited: it carries the unit's data)."""
    org_unit = _writable_unit(request.user, unit)
    data_set = dataset_or_404(org_unit, dataset)
    parsed = period_or_404(data_set, period)
    content = build_template(org_unit, data_set, parsed, request.user)
    name = template_filename(org_unit, data_set, parsed)
    record_export(request, _("Excel 填报模板 %(n)s") % {"n": name}, org_unit=org_unit,
                  extra={"dataset": data_set.code, "period": str(parsed), "kind": "template"})  # fmt: skip
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = _attachment(name)
    return response


def _attachment(name: str) -> str:
    from urllib.parse import quote

    return f"attachment; filename=\"{quote(name)}\"; filename*=UTF-8''{quote(name)}"


# --- import ------------------------------------------------------------------------------------


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Excel 文件（.xlsx）"))
    dataset = forms.ModelChoiceField(
        label=gettext_lazy("报表（表格中没有“报表代码”列时使用）"),
        queryset=DataSet.objects.filter(is_active=True).order_by("code"),
        to_field_name="code",
        required=False,
    )


def _context_options(request: HttpRequest) -> ImportOptions:
    """The unit/data set/period the upload is for when started from a form page (404/403 when the
    user may not write that unit)."""
    unit_code = request.GET.get("unit", "").strip()
    if not unit_code:
        return ImportOptions()
    unit = _writable_unit(request.user, unit_code)
    dataset_code = request.GET.get("dataset", "").strip()
    dataset = dataset_or_404(unit, dataset_code) if dataset_code else None
    period_text = request.GET.get("period", "").strip()
    period = str(period_or_404(dataset, period_text)) if dataset and period_text else ""
    return ImportOptions(unit=unit, dataset=dataset, period=period)


def _options_json(options: ImportOptions) -> dict[str, Any]:
    return {
        "unit": options.unit.pk if options.unit else None,
        "dataset": options.dataset.pk if options.dataset else None,
        "period": options.period,
        "expected_versions": options.expected_versions,
        "file_name": options.file_name,
        "sha256": options.sha256,
    }


def _count_units(data: bytes, name: str) -> int:
    from qc_core.reporting.excel.numbers import parse_code

    content = read_workbook(data, name)
    count = 0
    for sheet in content.sheets:
        if sheet.layout == "template":
            count += 1
        else:
            count += len({parse_code(r.get("unit_code")) for r in sheet.rows})
    return count


@require_http_methods(["GET", "POST"])
@role_required(*IMPORT_ROLES)
def excel_import(request: HttpRequest) -> HttpResponse:
    """Upload form; a POST stores the file and shows (or starts) the dry-run preview."""
    options = _context_options(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            check_upload(upload.name or "", upload.size or 0)
            data = b"".join(upload.chunks())
            units = _count_units(data, upload.name or "")
        except FileRefused as exc:
            error = exc.message
        else:
            if options.dataset is None:
                options.dataset = form.cleaned_data.get("dataset")
            options.file_name, options.sha256 = upload.name or "", sha256_of(data)
            token = _start_import(request, data, options, units)
            return redirect("reporting:excel_import_status", token)
    status = 400 if error or form.errors else 200
    return render(request, "reporting/excel_import.html", {
        "form": form, "error": error, "options": options,
        "limit_mb": max_upload_bytes() / 1024 / 1024,
    }, status=status)  # fmt: skip


def _entries(request: HttpRequest) -> dict[str, Any]:
    return dict(request.session.get(SESSION_KEY, {}))


def _save_entry(request: HttpRequest, token: str, entry: dict[str, Any]) -> None:
    entries = _entries(request)
    entries[token] = entry
    for old in list(entries)[:-KEEP_IN_SESSION]:
        delete_upload(entries.pop(old).get("upload", ""))
    request.session[SESSION_KEY] = entries


def _entry_or_404(request: HttpRequest, token: str) -> dict[str, Any]:
    entry = _entries(request).get(token)
    if entry is None:
        raise Http404(_("没有找到这次上传（可能已过期），请重新上传。"))
    return entry


def _start_import(request: HttpRequest, data: bytes, options: ImportOptions, units: int) -> str:
    token = uuid.uuid4().hex
    entry: dict[str, Any] = {"upload": save_upload(data), "file_name": options.file_name,
                             "options": _options_json(options), "units": units,
                             "stage": "preview", "report": None, "run": None}  # fmt: skip
    if units > inline_import_units():
        run = start_job(
            excel_tasks.excel_import, label=_("Excel 导入预览：%(f)s") % {"f": options.file_name},
            user=request.user, org_unit=options.unit,
            kwargs={"upload": entry["upload"], "user_id": request.user.pk,
                    "options": entry["options"], "commit": False},
        )  # fmt: skip
        entry["run"] = str(run.pk)
    else:
        entry["report"] = import_workbook(data, request.user, options, commit=False).as_dict()
    _save_entry(request, token, entry)
    return token


def _run_of(request: HttpRequest, entry: dict[str, Any]) -> TaskRun | None:
    if not entry.get("run"):
        return None
    return TaskRun.objects.filter(pk=entry["run"], started_by=request.user.pk).first()


@require_GET
@never_cache
@role_required(*IMPORT_ROLES)
def excel_import_status(request: HttpRequest, token: str) -> HttpResponse:
    """The preview (or the import's result); while a job runs, its progress (polled)."""
    entry = _entry_or_404(request, token)
    run = _run_of(request, entry)
    report = entry.get("report")
    if run is not None and run.finished:
        report = run.result if isinstance(run.result, dict) else None
    running = run is not None and not run.finished
    if request.headers.get("HX-Request"):
        response = render(
            request, "reporting/excel_import_progress.html", {"run": run, "token": token}
        )
        if not running:
            response["HX-Refresh"] = "true"
        return response
    status = report.get("status_code", 200) if report else 200
    return render(request, "reporting/excel_import_result.html", {
        "entry": entry, "token": token, "run": run, "running": running, "report": report,
        "can_commit": bool(report and report["ok"] and report["dry_run"] and report["units"]),
    }, status=status)  # fmt: skip


@require_POST
@role_required(*IMPORT_ROLES)
def excel_import_commit(request: HttpRequest, token: str) -> HttpResponse:
    """Import the previewed upload for real — all rows of all units, or nothing."""
    entry = _entry_or_404(request, token)
    preview = entry.get("report")
    run = _run_of(request, entry)
    if preview is None and run is not None and run.finished and isinstance(run.result, dict):
        preview = run.result
    if entry["stage"] != "preview" or not preview or not preview.get("ok"):
        return redirect("reporting:excel_import_status", token)
    try:
        data = load_upload(entry["upload"])
    except FileNotFoundError:
        raise Http404(_("上传的文件已过期，请重新上传。")) from None
    options_json = dict(entry["options"], expected_versions=preview.get("expected_versions", {}))
    entry.update(stage="commit", report=None, run=None)
    if entry["units"] > inline_import_units():
        run = start_job(
            excel_tasks.excel_import, label=_("Excel 导入：%(f)s") % {"f": entry["file_name"]},
            user=request.user, org_unit=options_from(options_json).unit,
            kwargs={"upload": entry["upload"], "user_id": request.user.pk,
                    "options": options_json, "commit": True},
        )  # fmt: skip
        entry["run"] = str(run.pk)
    else:
        report = import_workbook(data, request.user, options_from(options_json), commit=True)
        entry["report"] = report.as_dict()
        if report.committed:
            delete_upload(entry["upload"])
    _save_entry(request, token, entry)
    return redirect("reporting:excel_import_status", token)


# --- export ------------------------------------------------------------------------------------


class ExportForm(forms.Form):
    dataset = forms.ModelChoiceField(
        label=gettext_lazy("报表"),
        queryset=DataSet.objects.filter(is_active=True).order_by("code"),
        to_field_name="code",
    )
    period = forms.CharField(
        label=gettext_lazy("周期"), max_length=10,
        help_text=gettext_lazy("季度如 2026Q3，月份如 2026-11；填写年份（如 2026）导出年度汇总。"),
    )  # fmt: skip
    approved_only = forms.BooleanField(label=gettext_lazy("只包含审核通过的数据"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        dataset, period = data.get("dataset"), data.get("period")
        if dataset and period:
            try:
                data["period"], data["periods"] = exporter.resolve_periods(dataset, period)
            except ValueError as exc:
                self.add_error("period", str(exc))
        return data


def _scope_label(scope: Scope) -> str:
    if scope.everything:
        return _("全省")
    names = (
        OrgUnit.objects.filter(path__in=scope.paths).order_by("path").values_list("name", flat=True)
    )
    return pgettext("list separator", "、").join(names)


@require_http_methods(["GET", "POST"])
@role_required(*EXPORT_ROLES)
def excel_export_view(request: HttpRequest) -> HttpResponse:
    """Export form; a POST downloads the workbook, or starts a job for a large scope."""
    scope = user_scope(request.user, EXPORT_ROLES)
    if scope.empty:
        raise PermissionDenied
    default = DataSet.objects.filter(code="GER-Q").first()
    initial: dict[str, Any] = {"dataset": default}
    if default is not None:
        initial["period"] = str(Period.last_ended(default.period_type))
    form = ExportForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        return _export(request, form.cleaned_data, scope)  # type: ignore[return-value]  # a file
    return render(request, "reporting/excel_export.html", {"form": form, "scope_label": _scope_label(scope)},
                  status=400 if form.errors else 200)  # fmt: skip


def _export(request: HttpRequest, data: dict[str, Any], scope: Scope) -> HttpResponseBase:
    dataset, period, approved_only = data["dataset"], data["period"], data["approved_only"]
    label = _scope_label(scope)
    user: Any = request.user
    who = _("%(name)s（%(code)s）") % {"name": user.get_full_name(), "code": user.get_username()}
    root = (
        None
        if scope.everything or len(scope.paths) != 1
        else OrgUnit.objects.filter(path=scope.paths[0]).first()
    )
    what = _("质控数据导出 %(ds)s %(p)s") % {"ds": dataset.code, "p": period}
    size = sum(expected_units(dataset, p).filter(scope.q("")).count() for p in data["periods"])
    if size > inline_export_rows():
        run = start_job(
            excel_tasks.excel_export, label=what, user=request.user, org_unit=root,
            kwargs={"dataset_id": dataset.pk, "period": period, "approved_only": approved_only,
                    "scope": {"everything": scope.everything, "paths": list(scope.paths)},
                    "scope_label": label, "exported_by": who},
        )  # fmt: skip
        record_export(request, what, org_unit=root, extra={
            "dataset": dataset.code, "period": period, "approved_only": approved_only,
            "scope": label, "mode": "job", "task_run": str(run.pk),
        })  # fmt: skip
        return redirect("system:job_detail", run.pk)
    buffer = io.BytesIO()
    summary = exporter.export(dataset, period, buffer, scope=scope, approved_only=approved_only,
                              scope_label=label, exported_by=who)  # fmt: skip
    record_export(request, what, org_unit=root, extra=exporter.audit_extra(summary, label))
    buffer.seek(0)
    name = exporter.export_filename(dataset, period, approved_only)
    return FileResponse(buffer, as_attachment=True, filename=name, content_type=XLSX)


def import_url(unit: OrgUnit, dataset: DataSet, period: str) -> str:
    """The upload page for one form (for links from the entry page)."""
    return (
        reverse("reporting:excel_import")
        + f"?unit={unit.code}&dataset={dataset.code}&period={period}"
    )
