"""The tamper-evident hash chain.

Each entry's ``hash`` is SHA-256 over a canonical JSON document made of its content fields and the
previous entry's hash (``prev_hash``; empty for the first entry). Changing, inserting or deleting a
row in the middle of the chain therefore breaks either that row's hash or the next row's link,
which ``audit_verify`` reports.

The canonical form is fixed here and only here: sorted keys, no whitespace, UTF-8, timestamps in
UTC with microseconds, foreign keys as raw ids. Changing it invalidates every stored hash, so it
carries a version number.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from django.db import connection

CHAIN_VERSION = 1

# The fields covered by the hash (besides prev_hash), in the order verification reads them.
HASHED_FIELDS: tuple[str, ...] = (
    "ts",
    "actor_id",
    "actor_username",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "org_unit_id",
    "changes",
    "ip",
    "user_agent",
    "extra",
)

# Any constant works; it only has to be the same for every writer of the audit table.
ADVISORY_LOCK_KEY = 7_436_052_901


def ts_text(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(content: dict[str, Any], prev_hash: str) -> bytes:
    """The exact bytes that are hashed for an entry."""
    document = {name: content[name] for name in HASHED_FIELDS}
    document["ts"] = ts_text(document["ts"])
    document["prev_hash"] = prev_hash
    document["v"] = CHAIN_VERSION
    return json.dumps(
        document, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")


def compute_hash(content: dict[str, Any], prev_hash: str) -> str:
    return hashlib.sha256(canonical(content, prev_hash)).hexdigest()


def lock_chain() -> None:
    """Serialize appenders until the current transaction ends.

    PostgreSQL: a transaction-scoped advisory lock, so two requests never read the same previous
    hash. SQLite: the project opens every transaction with BEGIN IMMEDIATE (see settings), which
    already holds the database's single write lock, so nothing more is needed.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])
