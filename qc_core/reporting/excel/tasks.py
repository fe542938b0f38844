"""Background jobs for workbooks with many units: import (preview or commit) and export.

Started with :func:`qc_core.system.services.start_job`; :class:`TrackedTask` keeps the TaskRun row
(status, progress, log, result, result file) up to date.
"""

from __future__ import annotations

import io
import logging
from typing import Any

from celery import shared_task
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _

from qc_core.accounts.models import User
from qc_core.accounts.scope import Scope
from qc_core.indicators.models import DataSet
from qc_core.orgs.models import OrgUnit
from qc_core.reporting.excel import exporter
from qc_core.reporting.excel.importer import ImportOptions, import_workbook
from qc_core.reporting.excel.uploads import delete_upload, load_upload
from qc_core.system.models import TaskRun
from qc_core.system.tasks import TrackedTask

logger = logging.getLogger(__name__)


# Per unit, the changes a job's result lists (the page shows the totals for the rest).
JOB_LIST_LIMIT = 30


class ImportRefused(Exception):
    """The commit job found problems; nothing was written (details in the run's result)."""


def options_from(data: dict[str, Any]) -> ImportOptions:
    """Rebuild :class:`ImportOptions` from the JSON the view passed to the job."""
    unit_id, dataset_id = data.get("unit"), data.get("dataset")
    return ImportOptions(
        unit=OrgUnit.objects.filter(pk=unit_id).first() if unit_id else None,
        dataset=DataSet.objects.filter(pk=dataset_id).first() if dataset_id else None,
        period=data.get("period") or "",
        expected_versions=data.get("expected_versions"),
        file_name=data.get("file_name") or "",
        sha256=data.get("sha256") or "",
    )


@shared_task(base=TrackedTask, bind=True, name="reporting.excel_import")
def excel_import(
    self: TrackedTask, upload: str, user_id: int, options: dict[str, Any], commit: bool
) -> dict[str, Any] | None:
    """Preview or commit an uploaded workbook holding many units."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        logger.warning("excel import %s: user %s is gone", self.request.id, user_id)
        return None
    try:
        data = load_upload(upload)
    except FileNotFoundError:
        raise ImportRefused(_("上传的文件已过期，请重新上传。")) from None
    self.progress(10, _("正在读取并核对工作簿") if not commit else _("正在导入工作簿"))
    report = import_workbook(data, user, options_from(options), commit=commit).as_dict(
        JOB_LIST_LIMIT
    )
    for error in report["errors"][:200]:
        self.log(error["text"])
    self.progress(95, _("共 %(u)d 个单位、%(c)d 处变更、%(e)d 个问题")
                  % {"u": report["totals"]["units"], "c": report["totals"]["changes"],
                     "e": report["errors_total"]})  # fmt: skip
    if commit:
        if not report["committed"]:
            TaskRun.objects.filter(pk=self.request.id).update(result=report)
            raise ImportRefused(
                _("导入未完成：发现 %(n)d 个问题，数据库未做任何修改。")
                % {"n": report["errors_total"]}
            )
        delete_upload(upload)
    return report


@shared_task(base=TrackedTask, bind=True, name="reporting.excel_export")
def excel_export(
    self: TrackedTask, dataset_id: int, period: str, approved_only: bool,
    scope: dict[str, Any], scope_label: str, exported_by: str,
) -> dict[str, Any] | None:  # fmt: skip
    """Write a large export to the run's result file."""
    dataset = DataSet.objects.filter(pk=dataset_id).first()
    if dataset is None:
        logger.warning("excel export %s: data set %s is gone", self.request.id, dataset_id)
        return None
    self.progress(5, _("正在汇总数据"))
    buffer = io.BytesIO()
    summary = exporter.export(
        dataset, period, buffer,
        scope=Scope(everything=bool(scope.get("everything")), paths=tuple(scope.get("paths", ()))),
        approved_only=approved_only, scope_label=scope_label, exported_by=exported_by,
    )  # fmt: skip
    self.progress(90, _("正在保存文件"))
    run = self.run_record()
    if run is not None:
        name = exporter.export_filename(dataset, summary["period"], approved_only)
        run.result_file.save(name, ContentFile(buffer.getvalue()), save=False)
        TaskRun.objects.filter(pk=run.pk).update(result_file=run.result_file.name)
    return summary
