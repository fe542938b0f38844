"""The /api/v1/ router: each app contributes its viewsets here."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from qc_core.accounts.api import MeView, TokenView, UserViewSet
from qc_core.audit.api import AuditEntryViewSet
from qc_core.notify.api import NotificationViewSet
from qc_core.orgs.api import OrgUnitViewSet

router = DefaultRouter()
router.register("org-units", OrgUnitViewSet, basename="org-unit")
router.register("users", UserViewSet, basename="user")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("audit", AuditEntryViewSet, basename="audit-entry")

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("me/", MeView.as_view(), name="api-me"),
    *router.urls,
]
