from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsPortalConfig(AppConfig):
    name = "ops_portal"
    label = "ops_portal"
    verbose_name = _("运维服务")

    def ready(self) -> None:
        from ops_portal import events, metrics  # noqa: F401  (registration on import)
        from ops_portal.intake import monitors, tasks  # noqa: F401  (poll_mailbox task)

        # Signals cross the layer boundary only: monitors/backup → ops_portal (DESIGN.md).
        monitors.connect()

        self._register_audit()
        self._register_nav()
        from ops_portal.oncall import setup as oncall_setup

        oncall_setup.ready()  # on-call: events, task, metrics, audit, admin, nav

    @staticmethod
    def _register_audit() -> None:
        from ops_portal.models import (
            BusinessCalendar,
            CalendarDay,
            EscalationPolicy,
            EscalationStep,
            Shift,
            SlaPolicy,
            Ticket,
        )
        from qc_core import audit

        # The SLA summary columns change with every clock refresh; the ledger explains them.
        audit.register(
            Ticket,
            org_unit="org_unit",
            exclude=("sla_due_at", "sla_breached", "updated_at"),
            describe=lambda t: f"工单 {t.number}",
        )
        for model in (
            SlaPolicy,
            BusinessCalendar,
            CalendarDay,
            EscalationPolicy,
            EscalationStep,
            Shift,
        ):
            audit.register(model)

    @staticmethod
    def _register_nav() -> None:
        from qc_core.accounts.choices import Role
        from qc_core.system.nav import NavItem, register

        section = _("运维")
        staff = frozenset({Role.ENGINEER, Role.OPS_MANAGER})
        register(
            NavItem(
                "ops_queue",
                _("工单队列"),
                "ops_portal:queue",
                section,
                roles=staff,
                icon="list-task",
                order=40,
            ),
            NavItem(
                "ops_phone",
                _("电话登记"),
                "ops_portal:phone",
                section,
                roles=staff,
                icon="telephone",
                order=41,
            ),
            NavItem(
                "ops_my",
                _("我的报修"),
                "ops_portal:my_tickets",
                section,
                icon="life-preserver",
                order=42,
            ),
            NavItem(
                "ops_new", _("新建报修"), "ops_portal:new", section, icon="plus-circle", order=43
            ),
            NavItem(
                "ops_policy",
                _("SLA 策略"),
                "ops_portal:policy",
                section,
                roles=frozenset({Role.OPS_MANAGER}),
                icon="stopwatch",
                order=44,
            ),
        )
