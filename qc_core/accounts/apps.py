from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "qc_core.accounts"
    label = "accounts"
    verbose_name = _("账户与角色")

    def ready(self) -> None:
        from qc_core.system.nav import NavItem, register

        register(
            NavItem(
                "profile", _("个人设置"), "accounts:profile", _("账户"), icon="person", order=200
            ),
        )
