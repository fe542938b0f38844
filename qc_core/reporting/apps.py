from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportingConfig(AppConfig):
    name = "qc_core.reporting"
    label = "reporting"
    verbose_name = _("质控上报")

    def ready(self) -> None:
        from qc_core.accounts.choices import Role
        from qc_core.accounts.tokens import UnitApiToken
        from qc_core.audit import register
        from qc_core.reporting import events  # noqa: F401  (registers notification events)
        from qc_core.reporting.models import DataValue, Submission
        from qc_core.system.nav import NavItem
        from qc_core.system.nav import register as register_nav

        register(Submission, org_unit="org_unit")
        register(DataValue, org_unit=lambda value: value.submission.org_unit_id)
        register(
            UnitApiToken,
            exclude=("key_hash",),
            org_unit="org_unit",
            describe=lambda token: f"单位接口令牌 {token.name}（{token.prefix}…）",
        )
        # Reporting-progress alerts: notification events and Celery tasks (not autodiscovered).
        from qc_core.reporting import tasks_alerts  # noqa: F401
        from qc_core.reporting.alerts import register_alert_events
        from qc_core.reporting.excel import tasks as _excel_tasks  # noqa: F401  (Excel jobs)

        register_alert_events()
        register_nav(
            NavItem(
                "reporting_progress",
                _("上报进度"),
                "reporting:progress",
                _("质控"),
                roles=frozenset(
                    {
                        Role.UNIT_REPORTER,
                        Role.HOSPITAL_LEADER,
                        Role.SUBCENTER_ADMIN,
                        Role.CENTER_ADMIN,
                        Role.HEALTH_OFFICIAL,
                    }
                ),
                icon="bar-chart-line",
                order=22,
            ),
            NavItem(
                "reporting",
                _("质控上报"),
                "reporting:home",
                _("质控"),
                roles=frozenset(
                    {
                        Role.UNIT_REPORTER,
                        Role.HOSPITAL_LEADER,
                        Role.SUBCENTER_ADMIN,
                        Role.CENTER_ADMIN,
                        Role.HEALTH_OFFICIAL,
                    }
                ),
                icon="clipboard-data",
                order=20,
            ),
            NavItem(
                "reporting_review",
                _("审核上报"),
                "reporting:review_list",
                _("质控"),
                roles=frozenset({Role.CENTER_ADMIN, Role.SUBCENTER_ADMIN}),
                icon="check2-square",
                order=22,
            ),
            NavItem(
                "reporting_excel",
                _("Excel 导入导出"),
                "reporting:excel_home",
                _("质控"),
                roles=frozenset({Role.UNIT_REPORTER, Role.CENTER_ADMIN}),
                icon="file-earmark-spreadsheet",
                order=24,
            ),
            NavItem(
                "unit_tokens",
                _("单位接口令牌"),
                "reporting:token_list",
                _("管理"),
                roles=frozenset({Role.CENTER_ADMIN}),
                icon="key",
                order=80,
            ),
        )
