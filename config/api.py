"""The /api/v1/ router: each app contributes its viewsets here."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from ops_portal.api import TicketViewSet
from ops_portal.api_intake import AlertmanagerWebhookView, MonitorWebhookView
from qc_core.accounts.api import MeView, TokenView, UserViewSet
from qc_core.audit.api import AuditEntryViewSet
from qc_core.indicators.api import DataSetViewSet, IndicatorViewSet
from qc_core.notify.api import NotificationViewSet
from qc_core.orgs.api import OrgUnitViewSet
from qc_core.reporting.api import SubmissionViewSet, UnitApiTokenViewSet
from qc_core.reporting.api_progress import ReportingProgressView
from qc_core.reporting.dhis2 import DataValueSetView

router = DefaultRouter()
router.register("org-units", OrgUnitViewSet, basename="org-unit")
router.register("users", UserViewSet, basename="user")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("audit", AuditEntryViewSet, basename="audit-entry")
router.register("indicators", IndicatorViewSet, basename="indicator")
router.register("datasets", DataSetViewSet, basename="dataset")
router.register("submissions", SubmissionViewSet, basename="submission")
router.register("unit-tokens", UnitApiTokenViewSet, basename="unit-token")
router.register("tickets", TicketViewSet, basename="ticket")

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("me/", MeView.as_view(), name="api-me"),
    path("dataValueSets/", DataValueSetView.as_view(), name="api-data-value-sets"),
    path("reporting-progress/", ReportingProgressView.as_view(), name="api-reporting-progress"),
    path("intake/alertmanager/", AlertmanagerWebhookView.as_view(), name="api-intake-alertmanager"),
    path("intake/monitor/", MonitorWebhookView.as_view(), name="api-intake-monitor"),
    *router.urls,
]
