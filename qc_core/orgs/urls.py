from django.urls import path

from qc_core.orgs import views

app_name = "orgs"

urlpatterns = [
    path("", views.unit_list, name="unit_list"),
    path("rebuild-cache/", views.rebuild_cache, name="rebuild_cache"),
    path("<str:code>/", views.unit_detail, name="unit_detail"),
]
