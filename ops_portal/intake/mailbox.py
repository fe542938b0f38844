"""Reading the operations mailbox over IMAP (stdlib ``imaplib``; no extra dependency).

For each UNSEEN message: read its size, fetch it with ``BODY.PEEK[]`` (so it is not marked seen
yet; only the header when it is above ``MAILBOX_MAX_BYTES``), hand it to the one e-mail intake
path (:func:`ops_portal.intake.email.ingest`) and mark it ``\\Seen`` once it is stored and handled.
A message whose storing fails stays unseen and the poll stops (the database is the problem; the
next poll tries again). A message stored twice — a crash between storing and marking seen — is
recognized by its Message-ID and ignored the second time.
"""

from __future__ import annotations

import imaplib
import logging
import re
import ssl
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache

from ops_portal.intake.choices import InboundSource
from ops_portal.intake.email import ingest

logger = logging.getLogger(__name__)

SIZE_RE = re.compile(rb"RFC822\.SIZE (\d+)")
LOCK_KEY = "ops_portal:poll_mailbox"
LOCK_SECONDS = 600


class MailboxError(Exception):
    """The mailbox cannot be reached or read (connection, login, folder)."""


@dataclass
class PollResult:
    """What one poll did: messages seen, and how many ended in each inbound status."""

    skipped: str = ""
    fetched: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    tickets: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "skipped": self.skipped,
            "fetched": self.fetched,
            "outcomes": dict(self.outcomes),
            "tickets": self.tickets,
        }


def _quote(folder: str) -> str:
    if folder.startswith('"') or not re.search(r'[\s"()\\{%*]', folder):
        return folder
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _check(response: tuple[str, Any], what: str) -> Any:
    status, data = response
    if status != "OK":
        detail = b" ".join(d for d in data if isinstance(d, bytes)).decode("utf-8", "replace")
        raise MailboxError(f"IMAP {what}: {status} {detail}".strip())
    return data


def connect() -> imaplib.IMAP4:
    """Log in and select ``MAILBOX_FOLDER``."""
    host, port, timeout = settings.MAILBOX_HOST, settings.MAILBOX_PORT, settings.MAILBOX_TIMEOUT
    try:
        if settings.MAILBOX_SSL:
            conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                host, port, ssl_context=ssl.create_default_context(), timeout=timeout
            )
        else:
            conn = imaplib.IMAP4(host, port, timeout=timeout)
    except (OSError, imaplib.IMAP4.error) as exc:
        raise MailboxError(f"cannot connect to IMAP {host}:{port}: {exc}") from exc
    try:
        _check(conn.login(settings.MAILBOX_USER, settings.MAILBOX_PASSWORD), "LOGIN")
        _check(conn.select(_quote(settings.MAILBOX_FOLDER)), f"SELECT {settings.MAILBOX_FOLDER}")
    except (OSError, imaplib.IMAP4.error) as exc:
        _logout(conn)
        raise MailboxError(f"IMAP {host}: {exc}") from exc
    except MailboxError:
        _logout(conn)
        raise
    return conn


def _logout(conn: imaplib.IMAP4) -> None:
    try:
        conn.logout()
    except Exception:  # already gone
        logger.debug("IMAP logout failed", exc_info=True)


def _literal(data: list[Any]) -> bytes | None:
    for item in data:
        if isinstance(item, tuple) and len(item) >= 2 and isinstance(item[1], bytes):
            return item[1]
    return None


def fetch_one(conn: imaplib.IMAP4, uid: str, result: PollResult) -> None:
    """Ingest one message and mark it seen."""
    data = _check(conn.uid("FETCH", uid, "(RFC822.SIZE)"), "FETCH SIZE")
    head = b" ".join(d if isinstance(d, bytes) else d[0] for d in data if d)
    match = SIZE_RE.search(head)
    size = int(match.group(1)) if match else None
    oversized = size is not None and size > settings.MAILBOX_MAX_BYTES
    part = "BODY.PEEK[HEADER]" if oversized else "BODY.PEEK[]"
    raw = _literal(_check(conn.uid("FETCH", uid, f"({part})"), "FETCH"))
    if raw is None:  # expunged meanwhile
        return
    inbound = ingest(raw, source=InboundSource.IMAP, size=size if oversized else None)
    _check(conn.uid("STORE", uid, "+FLAGS", "(\\Seen)"), "STORE")
    result.fetched += 1
    result.outcomes[inbound.status] += 1
    if inbound.ticket_id:
        result.tickets.append(inbound.ticket.number)  # type: ignore[union-attr]


def poll(limit: int | None = None) -> PollResult:
    """Read the unseen messages of the mailbox once. Raises :class:`MailboxError` when the
    mailbox cannot be read; returns at once when ``MAILBOX_HOST`` is unset or another poll runs."""
    if not settings.MAILBOX_HOST:
        return PollResult(skipped="MAILBOX_HOST unset")
    if not cache.add(LOCK_KEY, 1, LOCK_SECONDS):
        return PollResult(skipped="another poll is running")
    result = PollResult()
    try:
        conn = connect()
        try:
            data = _check(conn.uid("SEARCH", None, "UNSEEN"), "SEARCH")  # type: ignore[arg-type]
            uids = data[0].decode("ascii").split() if data and data[0] else []
            for uid in uids[:limit] if limit else uids:
                try:
                    fetch_one(conn, uid, result)
                except (OSError, imaplib.IMAP4.error) as exc:
                    raise MailboxError(f"IMAP message {uid}: {exc}") from exc
        finally:
            _logout(conn)
    finally:
        cache.delete(LOCK_KEY)
    return result
