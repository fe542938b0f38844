"""Notification events of the reporting workflow (bodies in templates/notify/events/)."""

from django.utils.translation import gettext_lazy as _

from qc_core.notify.events import register_event

register_event(
    "submission.submitted",
    title=_("质控数据已上报"),
    subject=_("{{ unit }} 已上报 {{ dataset }}（{{ period }}）"),
)
register_event(
    "submission.reviewed",
    title=_("质控数据分中心已审核"),
    subject=_("{{ unit }} 的 {{ dataset }}（{{ period }}）已通过分中心审核，待省中心审核"),
)
register_event(
    "submission.approved",
    title=_("质控数据审核通过"),
    subject=_("{{ dataset }}（{{ period }}）已审核通过"),
)
register_event(
    "submission.returned",
    title=_("质控数据被退回"),
    subject=_("{{ dataset }}（{{ period }}）被退回，请修改后重新上报"),
)
register_event(
    "submission.reopened",
    title=_("质控报表重新开放"),
    subject=_("{{ dataset }}（{{ period }}）已重新开放填报"),
)
