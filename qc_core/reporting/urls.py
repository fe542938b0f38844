from django.urls import include, path

from qc_core.reporting import token_views, views

app_name = "reporting"

urlpatterns = [
    path("submissions/", views.submission_list, name="submission_list"),
    path("tokens/", token_views.token_list, name="token_list"),
    path("tokens/<int:pk>/revoke/", token_views.token_revoke, name="token_revoke"),
    path("", include("qc_core.reporting.urls_pages")),
    path("", include("qc_core.reporting.urls_progress")),
    path("excel/", include("qc_core.reporting.urls_excel")),
]
