"""Writing to the audit trail, and checking it.

Every entry goes through :func:`record`, which links it into the hash chain under a lock.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.http import HttpRequest

from qc_core.audit.chain import HASHED_FIELDS, compute_hash, lock_chain
from qc_core.audit.choices import Action
from qc_core.audit.context import client_ip, current_request, user_agent
from qc_core.audit.models import AuditEntry
from qc_core.audit.registry import json_safe, tracking_for
from qc_core.system import clock

_UNSET: Any = object()


def _field_max(name: str) -> int:
    return int(getattr(AuditEntry._meta.get_field(name), "max_length", 0) or 0)


def _clip(value: Any, name: str) -> str:
    text = "" if value is None else str(value).replace("\x00", "")
    return text[: _field_max(name)]


def _plain_json(value: dict[str, Any] | None) -> dict[str, Any]:
    # Round-trip so the in-memory value is exactly what the database will give back to
    # audit_verify (tuples become lists, keys strings, dates ISO text).
    return json.loads(json.dumps(json_safe(value or {}), ensure_ascii=False, allow_nan=False))


def _unit_id(value: Any) -> int | None:
    value = getattr(value, "pk", value)
    return None if value is None else int(value)


def _describe(obj: Any) -> tuple[str, str, Any]:
    """(object_type, object_id, org_unit) for a model instance."""
    tracking = tracking_for(type(obj))
    if tracking is not None:
        return tracking.object_type, tracking.id_of(obj), tracking.unit_of(obj)
    meta = obj._meta.concrete_model._meta
    unit = getattr(obj, "org_unit_id", None)
    return meta.label_lower, "" if obj.pk is None else str(obj.pk), unit


def record(
    action: str,
    *,
    request: HttpRequest | None = None,
    user: Any = None,
    obj: Any = None,
    org_unit: Any = _UNSET,
    changes: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    username: str = "",
) -> AuditEntry:
    """Append one entry to the audit trail and return it.

    ``request`` defaults to the request being served (see ``AuditContextMiddleware``); ``user``
    defaults to that request's signed-in user. ``obj`` fills the object fields (and the org unit,
    when its model is registered or has an ``org_unit``). ``username`` names the actor when there
    is no account (a failed sign-in). The append runs in its own atomic block under the chain
    lock, so concurrent writers never fork the chain; inside an outer transaction the entry
    commits or rolls back with it.
    """
    request = request if request is not None else current_request()
    if user is None and request is not None:
        candidate = getattr(request, "user", None)
        if candidate is not None and candidate.is_authenticated:
            user = candidate
    if obj is not None:
        obj_type, obj_id, obj_unit = _describe(obj)
        object_type = object_type or obj_type
        object_id = object_id or obj_id
        object_repr = object_repr or _describe_repr(obj)
        if org_unit is _UNSET:
            org_unit = obj_unit
    if org_unit is _UNSET:
        org_unit = None
    authenticated = user is not None and getattr(user, "is_authenticated", False)
    entry = AuditEntry(
        ts=clock.now(),
        actor_id=user.pk if authenticated else None,
        actor_username=_clip(user.get_username() if authenticated else username, "actor_username"),
        action=action,
        object_type=_clip(object_type, "object_type"),
        object_id=_clip(object_id, "object_id"),
        object_repr=_clip(object_repr, "object_repr"),
        org_unit_id=_unit_id(org_unit),
        changes=_plain_json(changes),
        ip=client_ip(request) if request is not None else "",
        user_agent=user_agent(request) if request is not None else "",
        extra=_plain_json(extra),
    )
    # No savepoint: a failed audit write must fail the surrounding business transaction too.
    with transaction.atomic(savepoint=False):
        lock_chain()
        entry.prev_hash = (
            AuditEntry.objects.order_by("-id").values_list("hash", flat=True).first() or ""
        )
        entry.hash = entry.compute_hash()
        entry.save(force_insert=True)
    return entry


def _describe_repr(obj: Any) -> str:
    tracking = tracking_for(type(obj))
    return tracking.repr_of(obj) if tracking is not None else str(obj)


def record_export(
    request: HttpRequest | None,
    what: str,
    *,
    org_unit: Any = None,
    extra: dict[str, Any] | None = None,
) -> AuditEntry:
    """Record that the requesting user exported ``what`` (a description, e.g. "审计日志 CSV")."""
    return record(Action.EXPORT, request=request, object_repr=what, org_unit=org_unit, extra=extra)


def record_download(request: HttpRequest | None, name: str, obj: Any = None) -> AuditEntry:
    """Record that the requesting user downloaded the file ``name`` (belonging to ``obj``)."""
    return record(Action.DOWNLOAD, request=request, obj=obj, extra={"file": str(name)})


# --- verification ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainBreak:
    """The first entry whose hash or link does not hold."""

    entry_id: int
    ts: Any
    reason: str


@dataclass(frozen=True)
class VerifyResult:
    checked: int
    broken: ChainBreak | None

    @property
    def ok(self) -> bool:
        return self.broken is None


HASH_MISMATCH = "哈希不符：记录内容在写入后被修改"
LINK_BROKEN = "前序链接断开：prev_hash 与前一条记录的哈希不一致（前一条记录被删除、插入或改动）"


def _rows(batch_size: int) -> Iterator[tuple[Any, ...]]:
    # Keyset pagination over the primary key: constant memory, one short query per batch, and
    # no server-side cursor (works the same on SQLite and PostgreSQL).
    columns = ("id", *HASHED_FIELDS, "prev_hash", "hash")
    last_id = 0
    while True:
        batch = list(
            AuditEntry.objects.filter(id__gt=last_id)
            .order_by("id")
            .values_list(*columns)[:batch_size]
        )
        if not batch:
            return
        yield from batch
        last_id = batch[-1][0]


def verify_chain(batch_size: int = 5000) -> VerifyResult:
    """Walk the whole chain in id order, recomputing every hash and checking every link."""
    expected_prev = ""
    checked = 0
    n = len(HASHED_FIELDS)
    for row in _rows(batch_size):
        entry_id, content_values, prev_hash, stored_hash = (
            row[0],
            row[1 : n + 1],
            row[n + 1],
            row[n + 2],
        )
        content = dict(zip(HASHED_FIELDS, content_values, strict=True))
        if prev_hash != expected_prev:
            return VerifyResult(checked, ChainBreak(entry_id, content["ts"], LINK_BROKEN))
        if compute_hash(content, prev_hash) != stored_hash:
            return VerifyResult(checked, ChainBreak(entry_id, content["ts"], HASH_MISMATCH))
        expected_prev = stored_hash
        checked += 1
    return VerifyResult(checked, None)
