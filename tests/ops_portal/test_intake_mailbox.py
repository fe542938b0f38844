"""poll_mailbox against a real (tiny) IMAP4rev1 server on loopback, driven by stdlib imaplib,
and the ingest_email / poll_mailbox management commands."""

from __future__ import annotations

import io
import os
import socketserver
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from ops_portal.intake.choices import InboundSource, InboundStatus
from ops_portal.intake.email import ingest, reprocess_pending, store
from ops_portal.intake.mailbox import MailboxError, poll
from ops_portal.intake.tasks import poll_mailbox
from ops_portal.models import InboundEmail, Ticket
from tests.ops_portal import intake_messages as msgs
from tests.ops_portal.conftest import T0

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Box:
    """The server's state: messages by UID, the seen flags, and the commands it received."""

    user: str = "ops@geriqc.example.cn"
    password: str = 'p@ss "word"'
    messages: dict[int, bytes] = field(default_factory=dict)
    seen: set[int] = field(default_factory=set)
    commands: list[str] = field(default_factory=list)

    def seq(self, uid: int) -> int:
        return sorted(self.messages).index(uid) + 1


def _unquote(value: str) -> str:
    if value.startswith('"') and value.endswith('"'):
        return value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return value


class IMAPHandler(socketserver.StreamRequestHandler):
    """Just enough IMAP4rev1 for poll_mailbox: LOGIN, SELECT, UID SEARCH/FETCH/STORE, LOGOUT."""

    def out(self, *lines: bytes | str) -> None:
        for line in lines:
            data = line.encode() if isinstance(line, str) else line
            self.wfile.write(data + b"\r\n")
        self.wfile.flush()

    def handle(self) -> None:
        box: Box = self.server.box  # type: ignore[attr-defined]
        self.out("* OK [CAPABILITY IMAP4rev1] GeriQC test IMAP ready")
        while line := self.rfile.readline():
            tag, _, rest = line.decode().rstrip("\r\n").partition(" ")
            command, _, args = rest.partition(" ")
            box.commands.append(rest)
            command = command.upper()
            if command == "CAPABILITY":
                self.out("* CAPABILITY IMAP4rev1", f"{tag} OK CAPABILITY completed")
            elif command == "LOGIN":
                user, _, password = args.partition(" ")
                if (_unquote(user), _unquote(password)) != (box.user, box.password):
                    self.out(f"{tag} NO [AUTHENTICATIONFAILED] Invalid credentials")
                else:
                    self.out(f"{tag} OK LOGIN completed")
            elif command == "SELECT":
                self.out(
                    f"* {len(box.messages)} EXISTS",
                    "* FLAGS (\\Seen)",
                    f"{tag} OK [READ-WRITE] SELECT completed",
                )
            elif command == "UID":
                self.uid(box, tag, args)
            elif command == "LOGOUT":
                self.out("* BYE logging out", f"{tag} OK LOGOUT completed")
                return
            else:
                self.out(f"{tag} BAD unknown command")

    def uid(self, box: Box, tag: str, args: str) -> None:
        sub, _, rest = args.partition(" ")
        sub = sub.upper()
        if sub == "SEARCH":
            unseen = [str(u) for u in sorted(box.messages) if u not in box.seen]
            self.out(
                "* SEARCH " + " ".join(unseen) if unseen else "* SEARCH",
                f"{tag} OK SEARCH completed",
            )
            return
        uid_text, _, items = rest.partition(" ")
        uid = int(uid_text)
        if uid not in box.messages:
            self.out(f"{tag} OK nothing")
            return
        raw, seq = box.messages[uid], box.seq(uid)
        if sub == "STORE":
            box.seen.add(uid)
            self.out(f"* {seq} FETCH (UID {uid} FLAGS (\\Seen))", f"{tag} OK STORE completed")
        elif "RFC822.SIZE" in items:
            self.out(
                f"* {seq} FETCH (UID {uid} RFC822.SIZE {len(raw)})", f"{tag} OK FETCH completed"
            )
        else:
            section = "HEADER" if "[HEADER]" in items else ""
            data = raw[: raw.index(b"\r\n\r\n") + 4] if section else raw
            self.wfile.write(
                f"* {seq} FETCH (UID {uid} BODY[{section}] {{{len(data)}}}\r\n".encode()
                + data
                + b")\r\n"
            )
            self.out(f"{tag} OK FETCH completed")


@pytest.fixture
def imap(settings: Any) -> Iterator[Box]:
    box = Box()
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), IMAPHandler)
    server.daemon_threads = True
    server.box = box  # type: ignore[attr-defined]
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    settings.MAILBOX_HOST = "127.0.0.1"
    settings.MAILBOX_PORT = server.server_address[1]
    settings.MAILBOX_SSL = False
    settings.MAILBOX_USER = box.user
    settings.MAILBOX_PASSWORD = box.password
    settings.MAILBOX_FOLDER = "INBOX"
    settings.MAILBOX_TIMEOUT = 5
    settings.OPS_MAILBOX_ADDRESS = msgs.OPS
    try:
        yield box
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_poll_ingests_unseen_messages_and_marks_them_seen(
    imap: Box, personas: Any, clock_at: Any
) -> None:
    imap.messages = {
        7: msgs.plain(
            sender="old@h.example.cn", subject="已读的旧邮件", body="x", message_id="<old@h>"
        ),
        8: msgs.foxmail_with_attachment(),
        9: msgs.bounce(),
    }
    imap.seen = {7}

    result = poll()

    assert result.fetched == 2
    assert dict(result.outcomes) == {InboundStatus.CREATED: 1, InboundStatus.IGNORED: 1}
    ticket = Ticket.objects.get()
    assert result.tickets == [ticket.number]
    assert ticket.title == "王喆反映：质控平台登录后白屏"
    assert imap.seen == {7, 8, 9}
    assert set(InboundEmail.objects.values_list("source", flat=True)) == {InboundSource.IMAP}
    assert not any("RFC822)" in c or c.endswith("(RFC822)") for c in imap.commands)  # PEEK only


def test_a_message_read_twice_after_a_crash_opens_one_ticket(
    imap: Box, personas: Any, clock_at: Any
) -> None:
    """GIVEN a message stored and handled but not marked seen (the poller died in between)
    WHEN the next poll reads it again THEN it is recognized by its Message-ID and ignored."""
    raw = msgs.foxmail_with_attachment()
    ingest(raw, source=InboundSource.IMAP)
    imap.messages = {8: raw}

    result = poll()

    assert dict(result.outcomes) == {InboundStatus.IGNORED: 1}
    assert Ticket.objects.count() == 1
    assert imap.seen == {8}


def test_oversized_message_is_fetched_header_only_and_refused(
    imap: Box, settings: Any, clock_at: Any
) -> None:
    settings.MAILBOX_MAX_BYTES = 4096
    raw = msgs.foxmail_with_attachment(attachment=b"\x89PNG" + b"\x02" * 20_000)
    imap.messages = {3: raw}

    poll()

    inbound = InboundEmail.objects.get()
    assert inbound.status == InboundStatus.REJECTED
    assert inbound.truncated and inbound.size == len(raw)
    assert any("BODY.PEEK[HEADER]" in c for c in imap.commands)
    assert not any("BODY.PEEK[])" in c for c in imap.commands)
    assert imap.seen == {3}


def test_wrong_password_is_a_clear_error_and_stores_nothing(imap: Box, settings: Any) -> None:
    settings.MAILBOX_PASSWORD = "wrong"
    imap.messages = {1: msgs.foxmail_with_attachment()}

    with pytest.raises(MailboxError, match="AUTHENTICATIONFAILED"):
        poll()
    with pytest.raises(CommandError, match="无法读取邮箱"):
        call_command("poll_mailbox")
    assert InboundEmail.objects.count() == 0
    assert imap.seen == set()


def test_poll_mailbox_command_reports_what_it_did(imap: Box, personas: Any, clock_at: Any) -> None:
    imap.messages = {1: msgs.foxmail_with_attachment()}
    out = io.StringIO()

    call_command("poll_mailbox", stdout=out)

    number = Ticket.objects.get().number
    assert "读取 1 封" in out.getvalue() and number in out.getvalue()


def test_scheduled_task_returns_at_once_without_a_mailbox(settings: Any) -> None:
    settings.MAILBOX_HOST = ""

    result = poll_mailbox()

    assert result["skipped"] == "MAILBOX_HOST unset"
    with pytest.raises(CommandError, match="MAILBOX_HOST"):
        call_command("poll_mailbox")


def test_interrupted_processing_is_finished_by_the_scheduled_task(
    settings: Any, personas: Any, clock_at: Any
) -> None:
    """GIVEN a message stored by the MTA pipe whose processing never ran (the process died)
    WHEN the beat task runs ten minutes later THEN the message is handled."""
    settings.MAILBOX_HOST = ""
    inbound = store(msgs.foxmail_with_attachment())
    assert reprocess_pending() == 0  # too fresh: its own process may still be working on it
    clock_at(T0 + timedelta(minutes=11))

    result = poll_mailbox()

    assert result["reprocessed"] == 1
    inbound.refresh_from_db()
    assert inbound.status == InboundStatus.CREATED
    assert Ticket.objects.count() == 1


def test_beat_schedule_polls_every_two_minutes() -> None:
    import importlib

    from django.apps import apps
    from django_celery_beat.models import PeriodicTask

    migration = importlib.import_module("ops_portal.migrations.0004_poll_mailbox_every_two_minutes")
    migration.schedule_poll_mailbox(apps, None)  # idempotent: what `migrate` ran

    task = PeriodicTask.objects.get(task="ops_portal.poll_mailbox")
    assert (task.interval.every, task.interval.period, task.enabled) == (2, "minutes", True)


# --- ingest_email ---------------------------------------------------------------------------------


def _stdin(monkeypatch: Any, raw: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))


def test_ingest_email_reads_one_message_from_stdin(
    monkeypatch: Any, personas: Any, clock_at: Any
) -> None:
    _stdin(monkeypatch, msgs.foxmail_with_attachment())
    out = io.StringIO()

    call_command("ingest_email", stdout=out)

    ticket = Ticket.objects.get()
    assert out.getvalue().split()[1:3] == [InboundStatus.CREATED, ticket.number]


def test_ingest_email_exits_zero_for_ignored_and_failed_mail(
    monkeypatch: Any, settings: Any
) -> None:
    settings.OPS_MAILBOX_OWNER_EMAIL = ""
    for raw in (msgs.bounce(), b"\x00garbage"):
        _stdin(monkeypatch, raw)
        call_command("ingest_email", stdout=io.StringIO())  # no SystemExit, no CommandError

    assert sorted(InboundEmail.objects.values_list("status", flat=True)) == [
        InboundStatus.FAILED,
        InboundStatus.IGNORED,
    ]


def test_ingest_email_with_empty_input_is_a_data_error(monkeypatch: Any) -> None:
    _stdin(monkeypatch, b"")

    with pytest.raises(CommandError) as error:
        call_command("ingest_email")
    assert error.value.returncode == 65


def test_ingest_email_exits_75_when_the_message_cannot_be_stored(tmp_path: Path) -> None:
    """The MTA retries later on EX_TEMPFAIL: here the database cannot even be opened."""
    env = {
        **os.environ,
        "GERIQC_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path}/missing-dir/geriqc.sqlite3",
    }
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "ingest_email"],
        input=msgs.foxmail_with_attachment(),
        capture_output=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )

    assert done.returncode == 75, done.stderr.decode()
    assert "邮件无法保存" in done.stderr.decode()
