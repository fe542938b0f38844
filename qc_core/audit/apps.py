from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "qc_core.audit"
    label = "audit"
    verbose_name = _("审计")

    def ready(self) -> None:
        from qc_core.accounts.choices import Role
        from qc_core.audit import receivers
        from qc_core.system.nav import NavItem, register

        receivers.connect()
        self._register_core_models()
        register(
            NavItem(
                "audit",
                _("审计日志"),
                "audit:search",
                _("管理"),
                roles=frozenset({Role.CENTER_ADMIN, Role.OPS_MANAGER}),
                icon="shield-check",
                order=85,
            )
        )

    @staticmethod
    def _register_core_models() -> None:
        """The foundation's own models; later apps register theirs in their own ``ready``."""
        from rest_framework.authtoken.models import Token, TokenProxy

        from qc_core.accounts.models import RoleAssignment, User
        from qc_core.audit import register
        from qc_core.audit.receivers import home_unit
        from qc_core.orgs.models import OrgUnit

        register(OrgUnit, org_unit=lambda unit: unit)
        register(User, exclude=("last_login",), mask=("password",), org_unit=home_unit)
        register(RoleAssignment, org_unit="org_unit_id")
        for token_model in (Token, TokenProxy):
            # The key is the token's primary key and its str(): never let it into the trail.
            register(
                token_model,
                exclude=("key",),
                org_unit=lambda token: home_unit(token.user_id),
                object_id=lambda token: token.user_id,
                describe=lambda token: f"API 令牌（{token.user.get_username()}）",
            )
