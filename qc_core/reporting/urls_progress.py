"""URL patterns of the reporting-progress page; included from :mod:`qc_core.reporting.urls`
(namespace ``reporting``)."""

from django.urls import path

from qc_core.reporting import views_progress

urlpatterns = [
    path("progress/", views_progress.progress, name="progress"),
]
