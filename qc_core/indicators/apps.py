from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IndicatorsConfig(AppConfig):
    name = "qc_core.indicators"
    label = "indicators"
    verbose_name = _("指标库")

    def ready(self) -> None:
        from qc_core.accounts.choices import Role
        from qc_core.audit import register
        from qc_core.indicators.models import DataSet, Indicator, IndicatorVersion, ValidationRule
        from qc_core.system.nav import NavItem
        from qc_core.system.nav import register as register_nav

        register(Indicator, exclude=("source_hash",))
        register(IndicatorVersion)
        register(DataSet)
        register(ValidationRule)
        register_nav(
            NavItem(
                "indicators",
                _("指标库"),
                "indicators:list",
                _("质控"),
                roles=frozenset(
                    {
                        Role.CENTER_ADMIN,
                        Role.SUBCENTER_ADMIN,
                        Role.HEALTH_OFFICIAL,
                        Role.UNIT_REPORTER,
                    }
                ),
                icon="list-check",
                order=30,
            )
        )
