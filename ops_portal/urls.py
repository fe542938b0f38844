from django.urls import include, path

from ops_portal import views

app_name = "ops_portal"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("my/", views.my_tickets, name="my_tickets"),
    path("new/", views.new_ticket, name="new"),
    path("phone/", views.phone_call, name="phone"),
    path("policy/", views.policy, name="policy"),
    path("oncall/", include("ops_portal.urls_oncall")),
    path("t/<str:number>/", views.ticket_detail, name="ticket"),
    path("t/<str:number>/files/<int:pk>/", views.attachment, name="attachment"),
    path("t/<str:number>/<str:name>/", views.ticket_action, name="ticket_action"),
]
