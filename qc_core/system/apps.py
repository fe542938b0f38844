from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SystemConfig(AppConfig):
    name = "qc_core.system"
    label = "system"
    verbose_name = _("系统")

    def ready(self) -> None:
        from qc_core.accounts.choices import Role
        from qc_core.system import metrics
        from qc_core.system.nav import NavItem, register

        metrics.connect_celery_signals()
        register(
            NavItem("home", _("首页"), "system:home", _("概览"), icon="house", order=0),
            NavItem(
                "jobs",
                _("后台任务"),
                "system:job_list",
                _("概览"),
                icon="hourglass-split",
                order=90,
            ),
            NavItem(
                "api_docs",
                _("API 文档"),
                "api-docs",
                _("管理"),
                icon="braces",
                order=92,
                roles=frozenset({Role.CENTER_ADMIN, Role.ENGINEER, Role.OPS_MANAGER, Role.TESTER}),
            ),
            NavItem(
                "admin",
                _("系统配置"),
                "admin:index",
                _("管理"),
                icon="gear",
                staff_only=True,
                order=95,
            ),
        )
