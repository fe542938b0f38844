from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "qc_core.notify"
    label = "notify"
    verbose_name = _("通知")

    def ready(self) -> None:
        # Register the platform's events before any form or admin lists them.
        from qc_core.notify import events  # noqa: F401
