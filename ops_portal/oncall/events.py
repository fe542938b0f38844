"""Notification events of the on-call module (registered with the notify service on import)."""

from django.utils.translation import gettext_lazy as _

from qc_core.notify.events import register_event

REQUEST_SUBMITTED = "ops.oncall_request"
REQUEST_DECIDED = "ops.oncall_decision"
COVERAGE_GAP = "ops.oncall_gap"

register_event(
    REQUEST_SUBMITTED,
    title=_("代班/换班申请"),
    subject=_("待审批：{{ requester }} 的{{ kind }}申请 #{{ pk }}"),
)
register_event(
    REQUEST_DECIDED,
    title=_("代班/换班审批结果"),
    subject=_("{{ kind }}申请 #{{ pk }} {{ status }}"),
)
register_event(
    COVERAGE_GAP, title=_("值班空档"), subject=_("值班空档：{{ start }} 至 {{ end }} 无主值班")
)


def page_url() -> str:
    """The on-call page (linked from every on-call notification)."""
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("ops_portal:oncall")
    except NoReverseMatch:
        return ""
