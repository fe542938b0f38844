"""``python manage.py qc_export --period 2026Q3 -o F.xlsx [--dataset GER-Q] [--approved-only]
[--unit CODE]`` — the quarterly (``2026Q3``), monthly (``2026-11``) or annual (``2026``: the
periods of that year pooled) export workbook, for the province or one unit's subtree."""

from __future__ import annotations

import getpass
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from qc_core.accounts.scope import Scope
from qc_core.audit.services import record_export
from qc_core.indicators.choices import PeriodType
from qc_core.indicators.models import DataSet
from qc_core.orgs.models import OrgUnit
from qc_core.reporting.excel import exporter

DEFAULT_DATASETS = {PeriodType.QUARTER: "GER-Q", PeriodType.MONTH: "OPS-M"}


def default_dataset(period_text: str) -> DataSet:
    """GER-Q for quarters and years, OPS-M for months (or the only active form of that type)."""
    period_type = PeriodType.MONTH if "-" in period_text else PeriodType.QUARTER
    preferred = DataSet.objects.filter(code=DEFAULT_DATASETS[period_type], is_active=True).first()
    if preferred is not None:
        return preferred
    candidates = list(DataSet.objects.filter(period_type=period_type, is_active=True)[:2])
    if len(candidates) != 1:
        raise CommandError(_("请用 --dataset 指定报表代码。"))
    return candidates[0]


class Command(BaseCommand):
    help = "导出质控数据工作簿（汇总、分指标排名、元数据）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--period", required=True, help="2026Q3、2026-11 或 2026（年度汇总）")
        parser.add_argument("-o", "--output", required=True, help="输出文件（.xlsx）")
        parser.add_argument("--dataset", help="报表代码，默认季度 GER-Q、月度 OPS-M")
        parser.add_argument("--approved-only", action="store_true", help="只包含审核通过的数据")
        parser.add_argument("--unit", help="只导出该单位（州市、县）及其下级单位")

    def handle(self, *args: Any, **options: Any) -> None:
        period_text = str(options["period"]).strip()
        if options["dataset"]:
            dataset = DataSet.objects.filter(code=options["dataset"]).first()
            if dataset is None:
                raise CommandError(_("报表代码“%(c)s”不存在。") % {"c": options["dataset"]})
        else:
            dataset = default_dataset(period_text)
        unit = None
        scope = Scope(everything=True)
        scope_label = _("全省")
        if options["unit"]:
            unit = OrgUnit.objects.filter(code=options["unit"]).first()
            if unit is None:
                raise CommandError(_("单位代码“%(c)s”不存在。") % {"c": options["unit"]})
            scope, scope_label = Scope(everything=False, paths=(unit.path,)), unit.name
        os_user = getpass.getuser()
        started = time.monotonic()
        try:
            summary = exporter.export(
                dataset, period_text, options["output"], scope=scope,
                approved_only=options["approved_only"], scope_label=scope_label,
                exported_by=_("命令行 qc_export（系统用户 %(u)s）") % {"u": os_user},
            )  # fmt: skip
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        record_export(
            None,
            _("质控数据导出 %(ds)s %(p)s") % {"ds": dataset.code, "p": summary["period"]},
            org_unit=unit,
            extra=exporter.audit_extra(
                summary,
                scope_label,
                command="qc_export",
                os_user=os_user,
                file=str(options["output"]),
            ),  # fmt: skip
        )
        self.stdout.write(
            _(
                "已导出 %(ds)s %(p)s：%(u)d 个单位、%(i)d 个指标、%(v)d 条数据，用时 %(s).2f 秒 → %(o)s"
            )
            % {
                "ds": dataset.code,
                "p": summary["period"],
                "u": summary["units"],
                "i": summary["indicators"],
                "v": summary["values"],
                "s": time.monotonic() - started,
                "o": options["output"],
            }  # fmt: skip
        )
