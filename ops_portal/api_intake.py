"""Webhooks of the intake channels: ``POST /api/v1/intake/alertmanager/`` (Alertmanager, payload
version 4) and ``POST /api/v1/intake/monitor/`` (an external monitor's outage began / ended).

Each is closed (404) while its token setting is empty, and otherwise needs
``Authorization: Bearer <token>`` (compared in constant time): missing or wrong → 401. A payload
that does not validate → 400 naming the field and the reason, in the platform's one error format.
Neither creates anything then. The views are thin; the work is in :mod:`ops_portal.intake`.
"""

from __future__ import annotations

import hmac
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ops_portal.intake import alertmanager, monitors


class WebhookTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer <token>`` against the setting named by ``setting``."""

    setting = ""

    def authenticate(self, request: Request) -> tuple[Any, None]:
        expected = str(getattr(settings, self.setting, "") or "")
        if not expected:
            raise exceptions.NotFound()
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != b"bearer":
            raise exceptions.NotAuthenticated(
                _("缺少令牌：请在 Authorization 头中提供 Bearer 令牌。")
            )
        if len(parts) != 2 or not hmac.compare_digest(parts[1], expected.encode("utf-8")):
            raise exceptions.AuthenticationFailed(_("令牌无效。"))
        return AnonymousUser(), None

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="geriqc-intake"'


class AlertmanagerTokenAuthentication(WebhookTokenAuthentication):
    setting = "ALERTMANAGER_WEBHOOK_TOKEN"


class MonitorTokenAuthentication(WebhookTokenAuthentication):
    setting = "MONITOR_WEBHOOK_TOKEN"


class AlertmanagerTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "ops_portal.api_intake.AlertmanagerTokenAuthentication"
    name = "alertmanagerBearer"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "ALERTMANAGER_WEBHOOK_TOKEN"}


class MonitorTokenScheme(AlertmanagerTokenScheme):
    target_class = "ops_portal.api_intake.MonitorTokenAuthentication"
    name = "monitorBearer"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "MONITOR_WEBHOOK_TOKEN"}


# Documented as their own schema components: plain "status" / "action" enums would collide with
# the other enums of that name in the API.
@extend_schema_field(
    {"type": "string", "enum": ["firing", "resolved"]}, component_name="AlertmanagerStatus"
)
class AlertmanagerStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=["firing", "resolved"], **kwargs)


@extend_schema_field(
    {"type": "string", "enum": ["created", "appended", "noted", "ignored"]},
    component_name="IntakeAction",
)
class IntakeActionField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=["created", "appended", "noted", "ignored"], **kwargs)


# --- payloads ------------------------------------------------------------------------------------


class AlertSerializer(serializers.Serializer):
    status = AlertmanagerStatusField()
    labels = serializers.DictField(child=serializers.CharField(allow_blank=True))
    annotations = serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False, default=dict
    )
    startsAt = serializers.CharField(required=False, allow_blank=True, default="")
    endsAt = serializers.CharField(required=False, allow_blank=True, default="")
    generatorURL = serializers.CharField(required=False, allow_blank=True, default="")
    fingerprint = serializers.CharField(required=False, allow_blank=True, default="")


class AlertmanagerPayloadSerializer(serializers.Serializer):
    """Alertmanager webhook payload, version 4."""

    version = serializers.CharField()
    groupKey = serializers.CharField(max_length=10_000)
    status = AlertmanagerStatusField()
    receiver = serializers.CharField(required=False, allow_blank=True, default="")
    groupLabels = serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False, default=dict
    )
    commonLabels = serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False, default=dict
    )
    commonAnnotations = serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False, default=dict
    )
    externalURL = serializers.CharField(required=False, allow_blank=True, default="")
    truncatedAlerts = serializers.IntegerField(required=False, min_value=0, default=0)
    alerts = AlertSerializer(many=True, allow_empty=False)

    def validate_version(self, value: str) -> str:
        if value != "4":
            raise serializers.ValidationError(
                _('只支持 Alertmanager webhook 第 4 版（version 应为 "4"，收到 "%(v)s"）。')
                % {"v": value}
            )
        return value


class MonitorPayloadSerializer(serializers.Serializer):
    """An external monitor's incident: ``began`` opens an outage ticket, ``ended`` adds a note."""

    monitor = serializers.CharField(max_length=120, label=gettext_lazy("监控项"))
    incident_id = serializers.CharField(max_length=120, label=gettext_lazy("事件编号"))
    status = serializers.ChoiceField(choices=["began", "ended"], label=gettext_lazy("状态"))
    at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, label=gettext_lazy("时间")
    )
    detail = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    url = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


OutcomeSerializer = inline_serializer(
    "IntakeOutcome",
    fields={
        "action": IntakeActionField(),
        "ticket": serializers.CharField(allow_null=True),
    },
)


def _answer(action: str, ticket: Any) -> Response:
    code = status.HTTP_201_CREATED if action == "created" else status.HTTP_200_OK
    return Response({"action": action, "ticket": ticket.number if ticket else None}, status=code)


class _WebhookView(APIView):
    permission_classes = [AllowAny]
    throttle_classes: list[Any] = []  # token-protected machine traffic; Alertmanager may burst
    parser_classes = [JSONParser]


class AlertmanagerWebhookView(_WebhookView):
    """Alertmanager notifications: firing → one ticket per alert group; resolved → a note."""

    authentication_classes = [AlertmanagerTokenAuthentication]

    @extend_schema(
        request=AlertmanagerPayloadSerializer,
        responses={200: OutcomeSerializer, 201: OutcomeSerializer},
    )
    def post(self, request: Request) -> Response:
        serializer = AlertmanagerPayloadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        outcome = alertmanager.receive(dict(serializer.validated_data))
        return _answer(outcome.action, outcome.ticket)


class MonitorWebhookView(_WebhookView):
    """An external monitor reports an outage beginning or ending."""

    authentication_classes = [MonitorTokenAuthentication]

    @extend_schema(
        request=MonitorPayloadSerializer, responses={200: OutcomeSerializer, 201: OutcomeSerializer}
    )
    def post(self, request: Request) -> Response:
        serializer = MonitorPayloadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        key = monitors.external_incident_key(data["monitor"], data["incident_id"])
        common = {
            "monitor": data["monitor"],
            "incident_id": data["incident_id"],
            "detail": data["detail"],
            "url": data["url"],
        }
        if data["status"] == "began":
            ticket, created = monitors.open_outage(key, started_at=data["at"], **common)
            return _answer("created" if created else "appended", ticket)
        ended = monitors.close_outage(key, ended_at=data["at"], **common)
        return _answer("noted" if ended else "ignored", ended)
