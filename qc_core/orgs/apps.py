from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgsConfig(AppConfig):
    name = "qc_core.orgs"
    label = "orgs"
    verbose_name = _("组织机构")

    def ready(self) -> None:
        from qc_core.accounts.choices import Role
        from qc_core.system.nav import NavItem, register

        register(
            NavItem(
                "orgs",
                _("组织机构"),
                "orgs:unit_list",
                _("管理"),
                icon="diagram-3",
                order=80,
                roles=frozenset(
                    {
                        Role.CENTER_ADMIN,
                        Role.SUBCENTER_ADMIN,
                        Role.HEALTH_OFFICIAL,
                        Role.UNIT_REPORTER,
                        Role.HOSPITAL_LEADER,
                        Role.OPS_MANAGER,
                        Role.ENGINEER,
                    }
                ),
            ),
        )
