"""Submissions API (``/api/v1/submissions/``), the DHIS2-style ``/api/v1/dataValueSets/`` and
unit API tokens (``/api/v1/unit-tokens/``).

Reads are scoped to the caller (outsiders get 404 for foreign submissions, 403 without any QC
role); writes go through :mod:`qc_core.reporting.services`, so the web form, Excel import and API
share one path. A unit token (``Authorization: Token gqu_…``) reads and writes only its unit's
drafts.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import django_filters
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from qc_core.accounts.choices import Role
from qc_core.accounts.scope import visible_units
from qc_core.accounts.tokens import UnitApiToken, issue_unit_token, revoke_unit_token
from qc_core.indicators.api import QC_THROTTLES, QcReader
from qc_core.indicators.models import DataSet
from qc_core.orgs.models import OrgUnit
from qc_core.reporting import permissions as perms
from qc_core.reporting import services
from qc_core.reporting.choices import SubmissionStatus, ValueSource
from qc_core.reporting.errors import InputError, ReportingError, SubmitBlocked
from qc_core.reporting.models import Submission
from qc_core.reporting.validation import validate_submission
from qc_core.system.permissions import HasAnyRole

THROTTLES = QC_THROTTLES


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("操作与当前状态冲突。")
    default_code = "workflow_conflict"


def error_response(exc: ReportingError) -> Response:
    """The platform's error format for a reporting error (400 input, 409 state)."""
    if isinstance(exc, SubmitBlocked):
        body: dict[str, Any] = {
            "status": 400,
            "code": exc.code,
            "message": exc.message,
            "validation": exc.results,
            "blocking": exc.blockers,
        }
        return Response(body, status=400)
    if isinstance(exc, InputError):
        fields: dict[str, list[str]] = {}
        for err in exc.errors:
            key = "values" if err.get("indicator") else str(err.get("field") or "values")
            fields.setdefault(key, []).append(str(err["message"]))
        body = {
            "status": 400,
            "code": "invalid",
            "message": exc.message,
            "fields": fields,
            "errors": exc.errors,
        }
        return Response(body, status=400)
    body = {"status": 409, "code": exc.code, "message": exc.message}
    current = getattr(exc, "current_version", None)
    if current is not None:
        body["row_version"] = current
    return Response(body, status=409)


def run_service(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call a service; reporting errors become responses (returned), permission errors 403."""
    try:
        return func(*args, **kwargs)
    except ReportingError as exc:
        return error_response(exc)
    except PermissionDenied as exc:
        raise exceptions.PermissionDenied(str(exc) or None) from None


# --- serializers -------------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.NUMBER)
class NumberField(serializers.Field):
    """A number (or numeric string, or null) passed through to the service, which parses it and
    reports problems per indicator in Chinese."""

    def to_internal_value(self, data: Any) -> Any:
        return data

    def to_representation(self, value: Any) -> Any:
        return None if value is None else str(value)


class ValueInputSerializer(serializers.Serializer):
    indicator = serializers.CharField(label=gettext_lazy("指标代码"))
    numerator = NumberField(required=False, allow_null=True, label=gettext_lazy("分子"))
    denominator = NumberField(required=False, allow_null=True, label=gettext_lazy("分母"))
    comment = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    justification = serializers.CharField(required=False, allow_blank=True, allow_null=True)


class SubmissionWriteSerializer(serializers.Serializer):
    org_unit = serializers.CharField(label=gettext_lazy("单位代码"))
    dataset = serializers.CharField(label=gettext_lazy("报表代码"))
    period = serializers.CharField(
        label=gettext_lazy("周期"), help_text=gettext_lazy("如 2026Q3 或 2026-11")
    )
    values = serializers.ListField(child=serializers.DictField(), allow_empty=True)
    expected_version = serializers.IntegerField(
        required=False, allow_null=True, help_text=gettext_lazy("乐观锁：上次读取到的 row_version")
    )


class SubmissionSerializer(serializers.ModelSerializer):
    org_unit = serializers.CharField(source="org_unit.code")
    org_unit_name = serializers.CharField(source="org_unit.name")
    dataset = serializers.CharField(source="dataset.code")
    status_display = serializers.CharField(source="get_status_display")

    class Meta:
        model = Submission
        fields = [
            "id",
            "org_unit",
            "org_unit_name",
            "dataset",
            "period",
            "status",
            "status_display",
            "first_submitted_at",
            "last_submitted_at",
            "reviewed_at",
            "approved_at",
            "returned_at",
            "reopened_until",
            "row_version",
            "updated_at",
        ]


def plain_number(value: Decimal | None, places: int | None = None) -> str | None:
    """A decimal as plain text (``40``, ``0.3``; never ``4E+1``), optionally rounded."""
    if value is None:
        return None
    if places is not None:
        value = round(value, places)
    return format(value.normalize(), "f")


def _value_rows(submission: Submission) -> list[dict[str, Any]]:
    dt = serializers.DateTimeField()
    values = submission.values.select_related("indicator", "indicator_version").order_by(
        "indicator__sort_order", "indicator__code"
    )
    return [
        {
            "indicator": value.indicator.code,
            "version": value.indicator_version.version,
            "numerator": plain_number(value.numerator),
            "denominator": plain_number(value.denominator),
            "rate": plain_number(value.rate, 4),
            "unit": value.indicator_version.unit,
            "comment": value.comment,
            "justification": value.justification,
            "source": value.source,
            "updated_at": dt.to_representation(value.updated_at),
        }
        for value in values
    ]


def submission_detail(submission: Submission, user: Any) -> dict[str, Any]:
    """The full view of one submission for ``user``: values, validation, review trail, what
    changed since the last return, the entry window and what the caller may do."""
    window = submission.window
    unit = submission.org_unit
    data = dict(SubmissionSerializer(submission).data)
    data["values"] = _value_rows(submission)
    data["validation"] = validate_submission(submission)
    data["events"] = [
        {
            "action": e.action,
            "action_display": e.get_action_display(),
            "actor": e.actor.get_full_name() if e.actor else "",
            "at": serializers.DateTimeField().to_representation(e.at),
            "reason": e.reason,
            "items": e.items,
        }
        for e in submission.events.select_related("actor")
    ]
    data["changes_since_return"] = services.changes_since_return(submission)
    dt = serializers.DateTimeField()
    data["window"] = {
        "opens_at": dt.to_representation(window.opens_at),
        "due_at": dt.to_representation(window.due_at),
        "lock_at": dt.to_representation(window.lock_at),
    }
    data["edit_block_reason"] = services.edit_block_reason(submission)
    data["can"] = {
        "edit": perms.can_write(user, unit) and data["edit_block_reason"] is None,
        "submit": perms.can_submit(user, unit) and data["edit_block_reason"] is None,
        "review": perms.can_review(user, unit)
        and submission.status in (SubmissionStatus.SUBMITTED, SubmissionStatus.REVIEWED),
        "reopen": perms.can_reopen(user, unit),
    }
    return data


class SubmissionFilter(django_filters.FilterSet):
    period = django_filters.CharFilter()
    org_unit = django_filters.CharFilter(
        field_name="org_unit__code", label=gettext_lazy("单位代码")
    )
    dataset = django_filters.CharFilter(field_name="dataset__code", label=gettext_lazy("报表代码"))
    status = django_filters.ChoiceFilter(choices=SubmissionStatus.choices)

    class Meta:
        model = Submission
        fields = ["period", "org_unit", "dataset", "status"]


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class ReturnItemSerializer(serializers.Serializer):
    indicator = serializers.CharField()
    reason = serializers.CharField()


class ReturnSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True)
    items = serializers.ListField(child=serializers.DictField(), required=False, default=list)


class ReopenSerializer(serializers.Serializer):
    until = serializers.DateTimeField(
        help_text=gettext_lazy("重新开放至（含时区或按北京时间理解）")
    )
    reason = serializers.CharField(allow_blank=True)


DETAIL_SCHEMA = inline_serializer(
    "SubmissionDetail",
    {
        "id": serializers.IntegerField(),
        "status": serializers.CharField(),
        "values": serializers.ListField(child=serializers.DictField()),
        "validation": serializers.ListField(child=serializers.DictField()),
        "events": serializers.ListField(child=serializers.DictField()),
        "changes_since_return": serializers.ListField(child=serializers.DictField()),
    },
)


class SubmissionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Submissions in the caller's scope; create/update drafts; submit, approve, return, reopen."""

    serializer_class = SubmissionSerializer
    permission_classes = [QcReader]
    throttle_classes = THROTTLES
    filterset_class = SubmissionFilter
    ordering_fields = ["period", "updated_at", "last_submitted_at"]

    def get_queryset(self) -> Any:
        qs = Submission.objects.select_related("org_unit", "dataset").order_by(
            "-period", "org_unit__path", "dataset__code"
        )
        return perms.scoped_submissions(qs, self.request.user)

    @extend_schema(responses=DETAIL_SCHEMA)
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(submission_detail(self.get_object(), request.user))

    @extend_schema(
        request=SubmissionWriteSerializer, responses={200: DETAIL_SCHEMA, 201: DETAIL_SCHEMA}
    )
    def create(self, request: Request) -> Response:
        """Create or update the draft of (org_unit, dataset, period) with ``values``; answers the
        validation results of each value."""
        body = SubmissionWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        unit = resolve_unit(request.user, data["org_unit"])
        if not perms.can_write(request.user, unit):
            raise exceptions.PermissionDenied(_("您没有填报该单位数据的权限。"))
        dataset = DataSet.objects.filter(code=data["dataset"].strip(), is_active=True).first()
        if dataset is None:
            raise exceptions.ValidationError(
                {"dataset": [_("报表“%(c)s”不存在或已停用。") % {"c": data["dataset"]}]}
            )
        source = ValueSource.API

        def work() -> Response:
            # One transaction: a refused save leaves no empty draft behind.
            with transaction.atomic():
                sub, created = services.get_or_create_draft(
                    unit, dataset, data["period"], request.user
                )
                result = services.save_values(
                    sub,
                    data["values"],
                    request.user,
                    source,
                    expected_version=data.get("expected_version"),
                )
            return Response(
                save_response(result), status=status.HTTP_201_CREATED if created else 200
            )

        return run_service(work)  # type: ignore[no-any-return]

    def _act(self, func: Callable[..., Any], *args: Any, submission: Any = None) -> Response:
        submission = submission or self.get_object()
        outcome = run_service(func, submission, self.request.user, *args)
        if isinstance(outcome, Response):
            return outcome
        return Response(submission_detail(outcome, self.request.user))

    @extend_schema(request=None, responses=DETAIL_SCHEMA)
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        """Submit the form (errors and unjustified warnings block it)."""
        return self._act(services.submit)

    @extend_schema(request=ReasonSerializer, responses=DETAIL_SCHEMA)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        submission = self.get_object()  # 404 for foreign forms before looking at the body
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._act(services.approve, body.validated_data["reason"], submission=submission)

    @extend_schema(request=ReturnSerializer, responses=DETAIL_SCHEMA)
    @action(detail=True, methods=["post"], url_path="return")
    def return_(self, request: Request, pk: str | None = None) -> Response:
        submission = self.get_object()  # 404 for foreign forms before looking at the body
        body = ReturnSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._act(
            services.return_submission,
            body.validated_data["reason"],
            body.validated_data["items"],
            submission=submission,
        )

    @extend_schema(request=ReopenSerializer, responses=DETAIL_SCHEMA)
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: str | None = None) -> Response:
        submission = self.get_object()  # 404 for foreign forms before looking at the body
        body = ReopenSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._act(
            services.reopen,
            body.validated_data["until"],
            body.validated_data["reason"],
            submission=submission,
        )


def resolve_unit(user: Any, code: str) -> OrgUnit:
    """The org unit ``code`` if the caller may see it (404 otherwise: existence is not leaked)."""
    unit = OrgUnit.objects.filter(code=str(code).strip()).first()
    if unit is None or not perms.can_read(user, unit):
        raise exceptions.NotFound(_("单位“%(c)s”不存在，或您无权访问。") % {"c": code})
    return unit


def save_response(result: services.SaveResult) -> dict[str, Any]:
    sub = result.submission
    values = []
    for code, value in result.values.items():
        values.append(
            {
                "indicator": code,
                "numerator": plain_number(value.numerator),
                "denominator": plain_number(value.denominator),
                "rate": plain_number(value.rate, 4),
                "validation": result.results_for(code),
            }
        )
    return {
        "submission": SubmissionSerializer(sub).data,
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "cleared": result.cleared,
        "values": values,
        "validation": result.results,
    }


# --- unit API tokens ---------------------------------------------------------------------------


class UnitApiTokenSerializer(serializers.ModelSerializer):
    org_unit = serializers.CharField(source="org_unit.code")
    org_unit_name = serializers.CharField(source="org_unit.name", read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True, default="")

    class Meta:
        model = UnitApiToken
        fields = [
            "id",
            "org_unit",
            "org_unit_name",
            "name",
            "prefix",
            "created_by",
            "created_at",
            "last_used_at",
            "revoked_at",
        ]
        read_only_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]


class UnitApiTokenViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Per-unit API tokens (center admins). The key is answered once, on creation; DELETE
    revokes."""

    serializer_class = UnitApiTokenSerializer
    permission_classes = [HasAnyRole.of(Role.CENTER_ADMIN)]
    filterset_fields = ["org_unit__code"]

    def get_queryset(self) -> Any:
        qs = UnitApiToken.objects.select_related("org_unit", "created_by").order_by("-created_at")
        units = visible_units(self.request.user, [Role.CENTER_ADMIN])
        return qs.filter(org_unit__in=units.values("pk"))

    @extend_schema(
        responses={201: inline_serializer("UnitApiTokenCreated", {"key": serializers.CharField()})}
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = UnitApiTokenSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        code = body.validated_data["org_unit"]["code"]
        unit = visible_units(request.user, [Role.CENTER_ADMIN]).filter(code=code).first()
        if unit is None:
            raise exceptions.ValidationError({"org_unit": [_("单位“%(c)s”不存在。") % {"c": code}]})
        try:
            token, key = issue_unit_token(unit, body.validated_data["name"], request.user)
        except ValueError as exc:
            raise exceptions.ValidationError({"org_unit": [str(exc)]}) from None
        data = dict(UnitApiTokenSerializer(token).data)
        data["key"] = key
        return Response(data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: UnitApiToken) -> None:
        revoke_unit_token(instance, self.request.user)
