from django.urls import path

from qc_core.indicators import views

app_name = "indicators"

urlpatterns = [
    path("", views.indicator_list, name="list"),
    path("<str:code>/", views.indicator_detail, name="detail"),
    path("<str:code>/edit/", views.indicator_edit, name="edit"),
]
