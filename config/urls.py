from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from qc_core.system import views as system_views

urlpatterns = [
    path("healthz", system_views.healthz, name="healthz"),
    path("readyz", system_views.readyz, name="readyz"),
    path("metrics", system_views.metrics_view, name="metrics"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("accounts/", include("qc_core.accounts.urls")),
    path("orgs/", include("qc_core.orgs.urls")),
    path("audit/", include("qc_core.audit.urls")),
    path("notifications/", include("qc_core.notify.urls")),
    path("ops/", include("ops_portal.urls")),
    path("indicators/", include("qc_core.indicators.urls")),
    path("qc/", include("qc_core.reporting.urls")),
    path("", include("qc_core.system.urls")),
]

if settings.DEBUG:
    urlpatterns.append(path("media/<path:path>", serve, {"document_root": settings.MEDIA_ROOT}))
