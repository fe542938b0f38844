"""On-call pages, included under ``/ops/oncall/`` in the ``ops_portal`` namespace."""

from django.urls import path

from ops_portal import views_oncall as views

urlpatterns = [
    path("", views.oncall, name="oncall"),
    path("rosters/", views.roster_list, name="oncall_rosters"),
    path("rosters/new/", views.roster_edit, name="oncall_roster_new"),
    path("rosters/<int:pk>/", views.roster_edit, name="oncall_roster_edit"),
    path("periods/new/", views.period_edit, name="oncall_period_new"),
    path("periods/<int:pk>/", views.period_edit, name="oncall_period_edit"),
    path("requests/", views.request_list, name="oncall_requests"),
    path("requests/new/<str:kind>/", views.request_new, name="oncall_request_new"),
    path("requests/<int:pk>/<str:action>/", views.request_action, name="oncall_request_action"),
]
