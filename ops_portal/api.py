"""Tickets API: ``/api/v1/tickets/`` (scoped list, create) and ``/api/v1/tickets/{number}/``
with its actions. Every ticket carries its SLA clocks; refused actions answer in the one error
format (400 bad input, 403 not yours to do, 404 not visible, 409 not allowed in this state)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import django_filters
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from ops_portal import services
from ops_portal.access import home_units, is_ops_staff, may_file_for, visible_tickets
from ops_portal.choices import Category, Channel, Severity, Status
from ops_portal.errors import ActionForbidden, InvalidTransition, TicketError
from ops_portal.models import Ticket, TicketEvent
from qc_core.accounts.models import User
from qc_core.orgs.models import OrgUnit
from qc_core.system import clock

NUMBER_PATTERN = r"GQ-\d{4}-\d{6,}"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "invalid_state"
    default_detail = gettext_lazy("当前状态不允许此操作。")


def run_action(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call a service and turn its refusals into API errors (message first, then the field)."""
    try:
        return func(*args, **kwargs)
    except ActionForbidden as exc:
        raise exceptions.PermissionDenied(exc.message) from exc
    except InvalidTransition as exc:
        raise Conflict(exc.message) from exc
    except TicketError as exc:
        detail: dict[str, Any] = {"non_field_errors": [exc.message]}
        if exc.field:
            detail[exc.field] = [exc.message]
        raise exceptions.ValidationError(detail) from exc


# --- read ----------------------------------------------------------------------------------


class TicketEventSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)  # type: ignore[var-annotated]
    attachments = serializers.SerializerMethodField()

    class Meta:
        model = TicketEvent
        fields = [
            "kind",
            "kind_display",
            "at",
            "recorded_at",
            "actor",
            "actor_name",
            "public",
            "body",
            "data",
            "attachments",
        ]

    def get_attachments(self, event: TicketEvent) -> list[dict[str, Any]]:
        return [
            {"name": a.name, "size": a.size, "content_type": a.content_type}
            for a in event.attachments.all()
        ]


class TicketClockSerializer(serializers.Serializer):
    """One SLA clause's clock."""

    clause = serializers.CharField()
    clause_display = serializers.CharField()
    started_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()
    met_at = serializers.DateTimeField(allow_null=True)
    stopped_at = serializers.DateTimeField(allow_null=True)
    paused = serializers.BooleanField()
    breached = serializers.BooleanField()
    paused_seconds = serializers.IntegerField()
    remaining_seconds = serializers.IntegerField(
        help_text=gettext_lazy("到期前剩余的计时秒数；负数表示已超时多久")
    )


class TicketSerializer(serializers.ModelSerializer):
    category_display = serializers.CharField(source="get_category_display", read_only=True)
    severity_display = serializers.CharField(source="get_severity_display", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    channel_display = serializers.CharField(source="get_channel_display", read_only=True)
    org_unit = serializers.SlugRelatedField(slug_field="code", read_only=True)  # type: ignore[var-annotated]
    org_unit_name = serializers.CharField(source="org_unit.name", read_only=True, default="")
    requester = serializers.SlugRelatedField(slug_field="username", read_only=True)  # type: ignore[var-annotated]
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True)  # type: ignore[var-annotated]
    policy_version = serializers.IntegerField(source="policy.version", read_only=True)
    clocks = serializers.SerializerMethodField()

    class Meta:
        model = Ticket
        fields = [
            "number",
            "title",
            "description",
            "category",
            "category_display",
            "severity",
            "severity_display",
            "status",
            "status_display",
            "channel",
            "channel_display",
            "org_unit",
            "org_unit_name",
            "requester",
            "contact_name",
            "contact_phone",
            "contact_email",
            "reported_at",
            "created_at",
            "updated_at",
            "assignee",
            "resolved_at",
            "closed_at",
            "policy_version",
            "sla_due_at",
            "sla_breached",
            "clocks",
        ]

    @extend_schema_field(TicketClockSerializer(many=True))
    def get_clocks(self, ticket: Ticket) -> list[dict[str, Any]]:
        context = cast(dict[str, Any], self.context)
        now = context.setdefault("now", clock.now())
        calendars: dict[int, Any] = context.setdefault("calendars", {})
        rows = sorted(ticket.clocks.all(), key=lambda r: r.clause == "on_site")
        result = []
        for row in rows:
            calendar = ticket.policy.calendar_for(row.clause)
            calendar = calendars.setdefault(calendar.pk, calendar)  # one holiday query per calendar
            result.append(services.clock_payload(row, now, calendar))
        return TicketClockSerializer(result, many=True).data  # type: ignore[return-value]


class TicketDetailSerializer(TicketSerializer):
    events = serializers.SerializerMethodField()

    class Meta(TicketSerializer.Meta):
        fields = [*TicketSerializer.Meta.fields, "events"]

    @extend_schema_field(TicketEventSerializer(many=True))
    def get_events(self, ticket: Ticket) -> list[dict[str, Any]]:
        events = (
            ticket.events.prefetch_related("attachments")
            .select_related("actor")
            .order_by("at", "id")
        )
        if not is_ops_staff(self.context["request"].user):
            events = events.filter(public=True)
        return TicketEventSerializer(events, many=True).data  # type: ignore[return-value]


# --- write ---------------------------------------------------------------------------------


class TicketCreateSerializer(serializers.Serializer):
    title = serializers.CharField(label=gettext_lazy("标题"), max_length=200)
    description = serializers.CharField(
        label=gettext_lazy("问题描述"), required=False, allow_blank=True, default=""
    )
    category = serializers.ChoiceField(label=gettext_lazy("类别"), choices=Category.choices)
    severity = serializers.ChoiceField(
        label=gettext_lazy("故障等级"),
        choices=Severity.choices,
        required=False,
        allow_blank=True,
        default="",
    )
    org_unit = serializers.SlugRelatedField(  # type: ignore[var-annotated]
        label=gettext_lazy("报修单位代码"),
        slug_field="code",
        queryset=OrgUnit.objects.filter(is_active=True),
        required=False,
        allow_null=True,
    )
    reported_at = serializers.DateTimeField(
        label=gettext_lazy("报告时间"), required=False, allow_null=True
    )
    contact_name = serializers.CharField(
        label=gettext_lazy("联系人"), max_length=64, required=False, allow_blank=True, default=""
    )
    contact_phone = serializers.CharField(
        label=gettext_lazy("联系电话"), max_length=32, required=False, allow_blank=True, default=""
    )
    contact_email = serializers.EmailField(
        label=gettext_lazy("联系邮箱"), required=False, allow_blank=True, default=""
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        user = self.context["request"].user
        staff = is_ops_staff(user)
        unit = attrs.get("org_unit")
        if unit is None and not staff:
            units = home_units(user)
            if len(units) != 1:
                raise serializers.ValidationError({"org_unit": [_("请填写报修单位代码。")]})
            attrs["org_unit"] = unit = units[0]
        if unit is not None and not may_file_for(user, unit):
            raise serializers.ValidationError(
                {"org_unit": [_("您不能为单位“%(u)s”报修。") % {"u": unit.code}]}
            )
        if attrs.get("reported_at") and not staff:
            raise serializers.ValidationError(
                {"reported_at": [_("只有运维人员可以指定报告时间（如电话报修）。")]}
            )
        return attrs


class TicketTextSerializer(serializers.Serializer):
    body = serializers.CharField(
        label=gettext_lazy("内容"), required=False, allow_blank=True, default=""
    )


class TicketReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(
        label=gettext_lazy("原因"), required=False, allow_blank=True, default=""
    )


class TicketRespondSerializer(serializers.Serializer):
    cause = serializers.CharField(
        label=gettext_lazy("故障原因"), required=False, allow_blank=True, default=""
    )
    solution = serializers.CharField(
        label=gettext_lazy("解决方案"), required=False, allow_blank=True, default=""
    )


class TicketResolveSerializer(TicketRespondSerializer):
    summary = serializers.CharField(
        label=gettext_lazy("处理结果"), required=False, allow_blank=True, default=""
    )


class TicketAssignSerializer(serializers.Serializer):
    assignee = serializers.SlugRelatedField(  # type: ignore[var-annotated]
        label=gettext_lazy("处理人用户名"),
        slug_field="username",
        queryset=User.objects.filter(is_active=True),
    )


class TicketSeveritySerializer(serializers.Serializer):
    severity = serializers.ChoiceField(label=gettext_lazy("故障等级"), choices=Severity.choices)
    reason = serializers.CharField(
        label=gettext_lazy("原因"), required=False, allow_blank=True, default=""
    )


class TicketConfirmOnSiteSerializer(serializers.Serializer):
    on_behalf_of_customer = serializers.BooleanField(
        label=gettext_lazy("代用户确认"), required=False, default=False
    )


class TicketCheckInSerializer(serializers.Serializer):
    arrived_at = serializers.DateTimeField(
        label=gettext_lazy("到场时间"), required=False, allow_null=True
    )
    place = serializers.CharField(
        label=gettext_lazy("到场地点"), required=False, allow_blank=True, default=""
    )


# --- filters and viewset -------------------------------------------------------------------


class TicketFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Status.choices)
    severity = django_filters.ChoiceFilter(choices=Severity.choices)
    category = django_filters.ChoiceFilter(choices=Category.choices)
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    org_unit = django_filters.CharFilter(
        field_name="org_unit__code", label=gettext_lazy("报修单位代码")
    )
    assignee = django_filters.CharFilter(
        method="filter_assignee", label=gettext_lazy("处理人用户名；me 表示自己")
    )
    breached = django_filters.BooleanFilter(
        method="filter_breached", label=gettext_lazy("是否超时")
    )
    q = django_filters.CharFilter(method="filter_q", label=gettext_lazy("按工单号或标题搜索"))

    class Meta:
        model = Ticket
        fields = ["status", "severity", "category", "channel", "org_unit", "assignee", "breached"]

    def filter_assignee(self, qs: Any, name: str, value: str) -> Any:
        if value == "me":
            return qs.filter(assignee=self.request.user)
        if value == "none":
            return qs.filter(assignee__isnull=True)
        return qs.filter(assignee__username=value)

    def filter_breached(self, qs: Any, name: str, value: bool) -> Any:
        overdue = Q(sla_breached=True) | Q(sla_due_at__lt=clock.now())
        return qs.filter(overdue) if value else qs.exclude(overdue)

    def filter_q(self, qs: Any, name: str, value: str) -> Any:
        return qs.filter(Q(number__icontains=value) | Q(title__icontains=value))


def _ticket_queryset(user: Any) -> Any:
    return (
        visible_tickets(user)
        .select_related(
            "org_unit", "requester", "assignee", "policy__calendar", "policy__consult_calendar"
        )
        .prefetch_related("clocks")
    )


class TicketViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Tickets visible to the caller (own and their units'; engineers and the ops manager: all)."""

    lookup_field = "number"
    lookup_value_regex = NUMBER_PATTERN
    filterset_class = TicketFilter
    ordering_fields = ["created_at", "reported_at", "sla_due_at", "number"]
    ordering = ["-created_at"]

    def get_queryset(self) -> Any:
        return _ticket_queryset(self.request.user)

    def get_serializer_class(self) -> Any:
        if self.action == "create":
            return TicketCreateSerializer
        if self.action == "list":
            return TicketSerializer
        return TicketDetailSerializer

    def _reply(self, ticket: Ticket, code: int = status.HTTP_200_OK) -> Response:
        fresh = _ticket_queryset(self.request.user).get(pk=ticket.pk)
        return Response(
            TicketDetailSerializer(fresh, context=self.get_serializer_context()).data, status=code
        )

    @extend_schema(request=TicketCreateSerializer, responses={201: TicketDetailSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = TicketCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        user = request.user
        has_contact = any(values.get(f) for f in ("contact_name", "contact_phone", "contact_email"))
        staff_for_someone_else = is_ops_staff(user) and has_contact
        ticket = run_action(
            services.create_ticket,
            channel=Channel.API,
            requester=None if staff_for_someone_else else user,
            created_by=user,
            **values,
        )
        return self._reply(ticket, status.HTTP_201_CREATED)

    def _act(self, serializer_class: Any, func: Callable[..., Any], **fixed: Any) -> Response:
        ticket = self.get_object()
        values: dict[str, Any] = {}
        if serializer_class is not None:
            data = serializer_class(data=self.request.data)
            data.is_valid(raise_exception=True)
            values = dict(data.validated_data)
        values.update(fixed)
        return self._reply(run_action(func, ticket, self.request.user, **values))

    @extend_schema(request=None, responses=TicketDetailSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, number: str) -> Response:
        return self._act(None, services.acknowledge)

    @extend_schema(request=TicketAssignSerializer, responses=TicketDetailSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, number: str) -> Response:
        return self._act(TicketAssignSerializer, services.assign)

    @extend_schema(request=TicketTextSerializer, responses=TicketDetailSerializer)
    @action(detail=True, methods=["post"])
    def comment(self, request: Request, number: str) -> Response:
        return self._act(
            TicketTextSerializer, services.comment, attachments=request.FILES.getlist("attachments")
        )

    @extend_schema(request=TicketTextSerializer, responses=TicketDetailSerializer)
    @action(detail=True, methods=["post"], url_path="internal-note")
    def internal_note(self, request: Request, number: str) -> Response:
        return self._act(TicketTextSerializer, services.internal_note)

    @extend_schema(request=TicketRespondSerializer, responses=TicketDetailSerializer)
    @action(detail=True, methods=["post"])
    def respond(self, request: Request, number: str) -> Response:
        return self._act(TicketRespondSerializer, services.respond)

    @extend_schema(request=TicketReasonSerializer, responses=TicketDetailSerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, number: str) -> Response:
        return self._act(TicketReasonSerializer, services.pause)

    @extend_schema(request=TicketReasonSerializer, responses=TicketDetailSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, number: str) -> Response:
        data = TicketReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._reply(
            run_action(
                services.resume, self.get_object(), request.user, note=data.validated_data["reason"]
            )
        )

    @extend_schema(request=TicketSeveritySerializer, responses=TicketDetailSerializer)
    @action(detail=True, methods=["post"])
    def severity(self, request: Request, number: str) -> Response:
        return self._act(TicketSeveritySerializer, services.change_severity)

    @extend_schema(request=TicketReasonSerializer, responses=TicketDetailSerializer)
    @action(detail=True, methods=["post"], url_path="request-on-site")
    def request_on_site(self, request: Request, number: str) -> Response:
        return self._act(TicketReasonSerializer, services.request_on_site)

    @extend_schema(request=TicketConfirmOnSiteSerializer, responses=TicketDetailSerializer)
    @action(detail=True, methods=["post"], url_path="confirm-on-site")
    def confirm_on_site(self, request: Request, number: str) -> Response:
        return self._act(TicketConfirmOnSiteSerializer, services.confirm_on_site)

    @extend_schema(request=TicketCheckInSerializer, responses=TicketDetailSerializer)
    @action(detail=True, methods=["post"], url_path="check-in")
    def check_in(self, request: Request, number: str) -> Response:
        return self._act(TicketCheckInSerializer, services.check_in)

    @extend_schema(request=TicketResolveSerializer, responses=TicketDetailSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, number: str) -> Response:
        return self._act(TicketResolveSerializer, services.resolve)

    @extend_schema(request=TicketReasonSerializer, responses=TicketDetailSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, number: str) -> Response:
        return self._act(TicketReasonSerializer, services.close)

    @extend_schema(request=TicketReasonSerializer, responses=TicketDetailSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, number: str) -> Response:
        return self._act(TicketReasonSerializer, services.reopen)

    @extend_schema(request=None, responses=TicketDetailSerializer)
    @action(detail=True, methods=["post"], url_path="acknowledge-escalation")
    def acknowledge_escalation(self, request: Request, number: str) -> Response:
        return self._act(None, services.acknowledge_escalation)
