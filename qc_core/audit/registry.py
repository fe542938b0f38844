"""Change tracking for registered models: create / update (changed fields only, before → after)
and delete, recorded through pre_save / post_save / post_delete receivers.

Register explicitly, from an ``AppConfig.ready``::

    from qc_core import audit
    audit.register(Submission, org_unit="org_unit")
    audit.register(User, exclude=("last_login",), mask=("password",), org_unit=home_unit)

Values are stored JSON-safe (dates ISO 8601, datetimes in UTC, foreign keys as their id, decimals
as strings). Masked fields never store a value: the entry shows only ``"changed"``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.fields.files import FieldFile
from django.db.models.signals import post_delete, post_save, pre_save

MASKED = "changed"
_BEFORE_ATTR = "_audit_before"

OrgUnitSpec = str | Callable[[Any], Any] | None


@dataclass(frozen=True)
class Tracking:
    """How one model is tracked."""

    model: type[models.Model]
    fields: tuple[models.Field, ...]
    mask: frozenset[str]
    org_unit: OrgUnitSpec
    object_id: Callable[[Any], Any] | None
    describe: Callable[[Any], str] | None

    @property
    def object_type(self) -> str:
        return self.model._meta.concrete_model._meta.label_lower  # type: ignore[union-attr]

    def unit_of(self, instance: Any) -> Any:
        if self.org_unit is None:
            return None
        if isinstance(self.org_unit, str):
            return getattr(instance, self.org_unit, None)
        return self.org_unit(instance)

    def id_of(self, instance: Any) -> str:
        value = self.object_id(instance) if self.object_id else instance.pk
        return "" if value is None else str(value)

    def repr_of(self, instance: Any) -> str:
        return self.describe(instance) if self.describe else str(instance)


_REGISTRY: dict[type[models.Model], Tracking] = {}


def json_safe(value: Any) -> Any:
    """A JSON-serializable form of a field value that compares equal across DB round trips."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, FieldFile):
        return value.name or ""
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(bytes(value))} bytes>"
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v) for v in value]
    return str(value)


def _field_value(field: models.Field, raw: Any) -> Any:
    with contextlib.suppress(ValidationError, TypeError, ValueError):
        raw = field.to_python(raw)
    return json_safe(raw)


def _bookkeeping(field: models.Field) -> bool:
    """The primary key (already the entry's object id) and automatic timestamps (the entry has
    its own time) carry no information worth recording."""
    return bool(
        field.primary_key
        or getattr(field, "auto_now", False)
        or getattr(field, "auto_now_add", False)
    )


def register(
    model: type[models.Model],
    *,
    exclude: Iterable[str] = (),
    mask: Iterable[str] = (),
    org_unit: OrgUnitSpec = None,
    object_id: Callable[[Any], Any] | None = None,
    describe: Callable[[Any], str] | None = None,
) -> None:
    """Track ``model``'s creates, updates and deletes.

    ``exclude``: fields never recorded (the primary key and ``auto_now`` / ``auto_now_add``
    timestamps are always left out). ``mask``: fields whose change is recorded without values. ``org_unit``: the
    unit an entry concerns (a field name or a callable taking the instance). ``object_id`` /
    ``describe``: replace the primary key / ``str()`` when those would leak secrets.
    """
    skipped = set(exclude)
    fields = tuple(
        f for f in model._meta.concrete_fields if f.name not in skipped and not _bookkeeping(f)
    )
    _REGISTRY[model] = Tracking(model, fields, frozenset(mask), org_unit, object_id, describe)
    uid = f"audit:{model._meta.label_lower}"
    pre_save.connect(_pre_save, sender=model, weak=False, dispatch_uid=f"{uid}:pre")
    post_save.connect(_post_save, sender=model, weak=False, dispatch_uid=f"{uid}:post")
    post_delete.connect(_post_delete, sender=model, weak=False, dispatch_uid=f"{uid}:delete")


def tracking_for(model: type[models.Model]) -> Tracking | None:
    return _REGISTRY.get(model)


def registered_types() -> list[str]:
    return sorted({t.object_type for t in _REGISTRY.values()})


def _tracked_fields(tracking: Tracking, update_fields: Iterable[str] | None) -> list[models.Field]:
    if update_fields is None:
        return list(tracking.fields)
    wanted = set(update_fields)
    return [f for f in tracking.fields if f.name in wanted or f.attname in wanted]


def _pre_save(
    sender: type[models.Model],
    instance: Any,
    raw: bool = False,
    update_fields: Any = None,
    **_: Any,
) -> None:
    setattr(instance, _BEFORE_ATTR, None)
    tracking = _REGISTRY[sender]
    if raw or instance._state.adding or instance.pk is None:
        return
    fields = _tracked_fields(tracking, update_fields)
    if not fields:
        return
    row = (
        sender._base_manager.using(instance._state.db or "default")
        .filter(pk=instance.pk)
        .values(*[f.attname for f in fields])
        .first()
    )
    if row is not None:
        setattr(instance, _BEFORE_ATTR, {f.name: _field_value(f, row[f.attname]) for f in fields})


def _post_save(
    sender: type[models.Model],
    instance: Any,
    created: bool,
    raw: bool = False,
    update_fields: Any = None,
    **_: Any,
) -> None:
    if raw:
        return
    from qc_core.audit.choices import Action

    tracking = _REGISTRY[sender]
    fields = _tracked_fields(tracking, None if created else update_fields)
    before: dict[str, Any] | None = getattr(instance, _BEFORE_ATTR, None)
    changes: dict[str, Any] = {}
    for field in fields:
        after = _field_value(field, getattr(instance, field.attname))
        if created:
            if after in (None, ""):
                continue
            changes[field.name] = MASKED if field.name in tracking.mask else [None, after]
            continue
        if before is None or field.name not in before:
            continue
        if before[field.name] != after:
            changes[field.name] = (
                MASKED if field.name in tracking.mask else [before[field.name], after]
            )
    if hasattr(instance, _BEFORE_ATTR):
        delattr(instance, _BEFORE_ATTR)
    if not created and not changes:
        return
    _record(tracking, Action.CREATE if created else Action.UPDATE, instance, changes)


def _post_delete(sender: type[models.Model], instance: Any, **_: Any) -> None:
    from qc_core.audit.choices import Action

    tracking = _REGISTRY[sender]
    changes: dict[str, Any] = {}
    for field in tracking.fields:
        value = _field_value(field, getattr(instance, field.attname))
        if value in (None, ""):
            continue
        changes[field.name] = MASKED if field.name in tracking.mask else [value, None]
    _record(tracking, Action.DELETE, instance, changes)


def _record(tracking: Tracking, action: str, instance: Any, changes: dict[str, Any]) -> None:
    from qc_core.audit.services import record

    record(
        action,
        object_type=tracking.object_type,
        object_id=tracking.id_of(instance),
        object_repr=tracking.repr_of(instance),
        org_unit=tracking.unit_of(instance),
        changes=changes,
    )
