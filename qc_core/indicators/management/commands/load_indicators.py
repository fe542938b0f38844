"""``python manage.py load_indicators [--file F]``: load the indicator library (idempotent)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from qc_core.indicators.services import LIBRARY_CSV, load_library


class Command(BaseCommand):
    help = "加载指标库（可重复执行）：新增指标、为变化的行创建新版本，并确保默认报表与校验规则。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--file", default=str(LIBRARY_CSV), help="指标库 CSV 文件（默认使用项目自带的指标库）"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = load_library(options["file"])
        except (OSError, ValueError, KeyError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"新增 {len(report.created)} 项，新版本 {len(report.revised)} 项，"
            f"未变 {len(report.unchanged)} 项。"
        )
        for code, count in report.datasets.items():
            self.stdout.write(f"报表 {code}：新分配 {count} 家单位。")
        if report.rules_created:
            self.stdout.write(f"新增校验规则：{'、'.join(report.rules_created)}")
        self.stdout.write(self.style.SUCCESS("指标库加载完成。"))
