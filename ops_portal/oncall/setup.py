"""Start-up registration of the on-call module, called from ``OpsPortalConfig.ready``:
notification events, the Celery task, /metrics figures, audit tracking, admin and navigation."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def ready() -> None:
    from ops_portal.oncall import admin, events, metrics, tasks  # noqa: F401  (registration on import)

    admin.register()
    _register_audit()
    _register_nav()


def _register_audit() -> None:
    from ops_portal.models import DutyMember, DutyPeriod, OncallRequest, Roster, RosterMember
    from qc_core import audit

    audit.register(Roster, exclude=("generated_until", "updated_at"))
    audit.register(DutyPeriod, exclude=("updated_at",))
    for model in (RosterMember, DutyMember, OncallRequest):
        audit.register(model)


def _register_nav() -> None:
    from qc_core.accounts.choices import Role
    from qc_core.system.nav import NavItem, register

    register(
        NavItem(
            "ops_oncall",
            _("值班"),
            "ops_portal:oncall",
            _("运维"),
            roles=frozenset({Role.ENGINEER, Role.OPS_MANAGER}),
            icon="calendar-week",
            order=45,
        )
    )
