# ruff: noqa: F811  (tests take the imported smtp_server fixture as a parameter)
"""E-mail intake: real-shaped messages in, tickets / comments / acknowledgements out.

Acknowledgements go through Django's SMTP backend to a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from typing import Any

import pytest
from django.core import mail as django_mail

from ops_portal import services
from ops_portal.choices import Channel, EventKind, Severity, Status
from ops_portal.intake import replies
from ops_portal.intake.choices import InboundStatus
from ops_portal.intake.email import ingest
from ops_portal.models import (
    InboundEmail,
    Ticket,
    TicketAttachment,
    TicketEmailMessage,
    TicketEvent,
)
from ops_portal.services import common
from qc_core.notify.models import Notification
from tests.notify.conftest import smtp_server  # noqa: F401  (the real SMTP server fixture)
from tests.ops_portal import intake_messages as msgs
from tests.ops_portal.conftest import T0

pytestmark = pytest.mark.django_db


@pytest.fixture
def mailbox(settings: Any, personas: Any, clock_at: Any) -> Any:
    """Intake settings as deployed: the ops mailbox address and its owner."""
    settings.OPS_MAILBOX_ADDRESS = msgs.OPS
    settings.OPS_MAILBOX_OWNER_EMAIL = "mailbox-owner@geriqc.example.cn"
    settings.DEFAULT_FROM_EMAIL = "GeriQC 运维 <noreply@geriqc.example.cn>"
    settings.MAILBOX_REPLIES_PER_HOUR = 10
    return personas


def events_of(ticket: Ticket, kind: str) -> list[TicketEvent]:
    return list(TicketEvent.objects.filter(ticket=ticket, kind=kind).order_by("id"))


def parsed(raw: bytes) -> Any:
    return email.message_from_bytes(raw, policy=email.policy.default)


# --- new tickets -----------------------------------------------------------------------------------


def test_foxmail_report_with_attachment_opens_an_email_ticket_and_is_acknowledged_over_smtp(
    mailbox: Any, smtp_server: Any
) -> None:
    """GIVEN a Foxmail message (gb2312 declared, GBK characters, PNG with an encoded name)
    WHEN it is ingested THEN one e-mail ticket exists for hospital A's reporter, with the
    attachment stored byte for byte, and the sender gets an acknowledgement with the number."""
    raw = msgs.foxmail_with_attachment()

    inbound = ingest(raw)

    assert inbound.status == InboundStatus.CREATED
    assert bytes(inbound.raw) == raw
    ticket = Ticket.objects.get()
    assert inbound.ticket == ticket
    assert ticket.title == "王喆反映：质控平台登录后白屏"
    assert "页面一片空白" in ticket.description
    assert ticket.channel == Channel.EMAIL
    assert ticket.severity == Severity.NON_OUTAGE
    assert ticket.requester == mailbox.reporter_a  # matched case-insensitively
    assert ticket.org_unit == mailbox.tree.hospital_a
    assert ticket.reported_at == datetime(2026, 3, 2, 0, 55, tzinfo=UTC)  # the Date header
    [attachment] = TicketAttachment.objects.filter(ticket=ticket)
    assert attachment.name == "登录报错截图.png"
    assert attachment.content_type == "image/png"
    with attachment.file.open("rb") as stored:
        assert stored.read() == msgs.PNG
    [ack] = smtp_server.messages
    assert smtp_server.recipients == [["Reporter_A@Example.org"]]
    assert ticket.number in smtp_server.subjects[0]
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack["In-Reply-To"] == "<202603020855001234567@hospital-a.example.cn>"
    assert ack["Reply-To"] == msgs.OPS
    # The 4 h respond clause runs from the Date header: 08:55 + 4 h, Asia/Shanghai.
    assert "2026-03-02 12:55 前答复故障原因和解决方案" in ack.get_content()
    assert TicketEmailMessage.objects.filter(
        ticket=ticket, message_id=ack["Message-ID"], incoming=False
    ).exists()
    assert inbound.replied_at is not None


def test_gb18030_body_and_rfc2047_gbk_subject_decode(mailbox: Any) -> None:
    raw = msgs.plain(
        sender="li.ming@hospital-a.example.cn",
        name="李明",
        subject="朱镕基路院区：质控数据无法提交",
        body="病区“䶮”字显示为问号，提交按钮无响应。\n联系电话：0871-6555 1234",
        charset="GB18030",
        subject_charset="GBK",
    )

    ingest(raw)

    ticket = Ticket.objects.get()
    assert ticket.title == "朱镕基路院区：质控数据无法提交"
    assert ticket.description == "病区“䶮”字显示为问号，提交按钮无响应。\n联系电话：0871-6555 1234"
    assert ticket.requester is None
    assert ticket.contact_name == "李明"
    assert ticket.contact_email == "li.ming@hospital-a.example.cn"
    assert len(django_mail.outbox) == 1


def test_big5_mail_in_8bit_decodes(mailbox: Any) -> None:
    raw = msgs.plain(
        sender="chen@hk-partner.example.com",
        subject="系統無法登入",
        body="系統無法登入，請協助處理。院裏的電腦都一樣。",
        charset="big5",
        transfer="8bit",
    )

    ingest(raw)

    ticket = Ticket.objects.get()
    assert ticket.title == "系統無法登入"
    assert ticket.description == "系統無法登入，請協助處理。院裏的電腦都一樣。"


def test_html_only_mail_becomes_plain_text(mailbox: Any) -> None:
    html = (
        "<html><head><style>p{color:red}</style><script>x()</script></head><body>"
        "<p>填报页面&nbsp;打不开</p><p>提示：<b>502 Bad Gateway</b><br>时间 8:50</p></body></html>"
    )
    ingest(msgs.html_only(sender="qc@hospital-b.example.cn", subject="填报页面打不开", html=html))

    ticket = Ticket.objects.get()
    assert ticket.description == "填报页面 打不开\n\n提示：502 Bad Gateway\n时间 8:50"
    assert "color" not in ticket.description and "x()" not in ticket.description


def test_implausible_date_header_is_not_the_report_time(mailbox: Any) -> None:
    raw = msgs.plain(
        sender="a@h.example.cn", subject="report", body="x", date="Sat, 1 Jan 2000 00:00:00 +0800"
    )

    ingest(raw)

    assert Ticket.objects.get().reported_at == T0


# --- threading -------------------------------------------------------------------------------------


def test_reply_to_the_acknowledgement_threads_by_in_reply_to(
    mailbox: Any, smtp_server: Any
) -> None:
    """GIVEN a ticket opened by mail and its acknowledgement WHEN the reporter answers the
    acknowledgement (In-Reply-To = its Message-ID, subject without the number) THEN the answer is
    a public comment on that ticket, without the quoted history, and no new ticket or ack."""
    ingest(msgs.foxmail_with_attachment())
    ticket = Ticket.objects.get()
    [ack] = smtp_server.messages
    reply = msgs.plain(
        sender="reporter_a@example.org",
        subject="回复：关于登录白屏",
        body=(
            "已清除浏览器缓存，仍然白屏。\n\n------------------ 原始邮件 ------------------\n"
            "发件人: GeriQC 运维\n> 您好！我们已收到您的来信"
        ),
        message_id="<reply-1@hospital-a.example.cn>",
        headers=(
            f"In-Reply-To: {ack['Message-ID']}",
            f"References: <202603020855001234567@hospital-a.example.cn> {ack['Message-ID']}",
        ),
    )

    inbound = ingest(reply)

    assert inbound.status == InboundStatus.THREADED
    assert Ticket.objects.count() == 1
    [comment] = events_of(ticket, EventKind.COMMENT)
    assert comment.body == "已清除浏览器缓存，仍然白屏。"
    assert comment.actor == mailbox.reporter_a and comment.public
    assert inbound.event == comment
    assert len(smtp_server.messages) == 1  # replies get no acknowledgement


def test_reply_threads_by_ticket_number_in_subject(mailbox: Any, make_ticket: Any) -> None:
    ticket = make_ticket()
    raw = msgs.plain(
        sender="REPORTER_A@example.org",
        subject=f"Re: [{ticket.number}] 系统无法登录",
        body="补充：只有 Chrome 浏览器有问题。",
        message_id="<reply-2@hospital-a.example.cn>",
    )

    ingest(raw)

    assert Ticket.objects.count() == 1
    [comment] = events_of(ticket, EventKind.COMMENT)
    assert comment.body == "补充：只有 Chrome 浏览器有问题。"
    assert comment.actor == mailbox.reporter_a
    assert django_mail.outbox == []


def test_contact_without_account_replies_publicly_and_resumes_a_paused_clock(mailbox: Any) -> None:
    ingest(
        msgs.plain(
            sender="zhang@clinic.example.cn",
            name="张三",
            subject="打印报表乱码",
            body="导出的 PDF 乱码",
        )
    )
    ticket = Ticket.objects.get()
    services.acknowledge(ticket, mailbox.engineer)
    services.pause(ticket, mailbox.engineer, "请提供导出文件样例")
    [ack] = django_mail.outbox

    ingest(
        msgs.plain(
            sender="zhang@clinic.example.cn",
            subject="Re: 打印报表乱码",
            body="样例见附件说明。",
            message_id="<reply-3@clinic.example.cn>",
            headers=(f"In-Reply-To: {ack.extra_headers['Message-ID']}",),
        )
    )

    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS
    [comment] = events_of(ticket, EventKind.COMMENT)
    assert comment.public and comment.actor is None
    assert "张三" in comment.actor_name
    assert events_of(ticket, EventKind.RESUMED)


def test_mail_from_someone_else_about_a_ticket_is_an_internal_note(
    mailbox: Any, make_ticket: Any
) -> None:
    """reporter_b (hospital B) cannot see hospital A's ticket: their mail naming its number is
    kept for the engineers only, never shown to A's requester as a comment."""
    ticket = make_ticket()
    raw = msgs.plain(
        sender="reporter_b@example.org",
        subject=f"{ticket.number} 我们也遇到了",
        body="大理这边也登录不了。",
        message_id="<other-1@hospital-b.example.cn>",
    )

    ingest(raw)

    assert events_of(ticket, EventKind.COMMENT) == []
    [note] = events_of(ticket, EventKind.INTERNAL_NOTE)
    assert not note.public
    assert "大理这边也登录不了。" in note.body


def test_reply_to_a_closed_ticket_opens_a_new_one_naming_it(mailbox: Any, make_ticket: Any) -> None:
    old = make_ticket(severity=Severity.OUTAGE)
    services.acknowledge(old, mailbox.engineer)
    services.resolve(old, mailbox.engineer, "已重启服务")
    services.close(old, mailbox.engineer)

    ingest(
        msgs.plain(
            sender="reporter_a@example.org",
            subject=f"Re: [{old.number}] 又登录不了",
            body="又出现了",
        )
    )

    new = Ticket.objects.exclude(pk=old.pk).get()
    assert old.number in new.description
    assert events_of(new, EventKind.CREATED)[0].data["follows"] == old.number


def test_the_same_message_delivered_twice_makes_one_ticket(mailbox: Any) -> None:
    raw = msgs.foxmail_with_attachment()

    first = ingest(raw)
    second = ingest(raw)

    assert Ticket.objects.count() == 1
    assert first.status == InboundStatus.CREATED
    assert second.status == InboundStatus.IGNORED
    assert len(django_mail.outbox) == 1


# --- loops -----------------------------------------------------------------------------------------


def test_bounce_is_kept_but_opens_nothing_and_gets_no_reply(mailbox: Any, smtp_server: Any) -> None:
    inbound = ingest(msgs.bounce())

    assert inbound.status == InboundStatus.IGNORED
    assert Ticket.objects.count() == 0
    assert smtp_server.messages == []


def test_out_of_office_reply_is_ignored_even_with_a_ticket_number(
    mailbox: Any, make_ticket: Any, smtp_server: Any
) -> None:
    ticket = make_ticket()

    inbound = ingest(msgs.outlook_out_of_office())

    assert inbound.status == InboundStatus.IGNORED
    assert "auto-generated" in inbound.reason
    assert TicketEvent.objects.filter(ticket=ticket).exclude(kind=EventKind.CREATED).count() == 0
    assert smtp_server.messages == []


@pytest.mark.parametrize(
    ("sender", "headers", "subject"),
    [
        ("a@h.example.cn", ("Precedence: bulk",), "通知"),
        ("a@h.example.cn", ("Precedence: junk",), "通知"),
        ("a@h.example.cn", ("X-Autoreply: yes",), "Re: 报修"),
        ("a@h.example.cn", ("Return-Path: <>",), "Re: 报修"),
        ("postmaster@h.example.cn", (), "Delivery report"),
        ("MAILER-DAEMON@h.example.cn", (), "failure notice"),
        ("a@h.example.cn", (), "自动回复: 报修"),
        (
            "noreply@geriqc.example.cn",
            (),
            "[GQ-2026-000009] 已收到您的报修",
        ),  # our own, looping back
    ],
)
def test_machine_generated_mail_never_opens_a_ticket(
    mailbox: Any, sender: str, headers: tuple[str, ...], subject: str
) -> None:
    inbound = ingest(msgs.plain(sender=sender, subject=subject, body="auto", headers=headers))

    assert inbound.status == InboundStatus.IGNORED
    assert inbound.reason
    assert Ticket.objects.count() == 0
    assert django_mail.outbox == []


def test_auto_submitted_no_is_a_person_writing(mailbox: Any) -> None:
    ingest(
        msgs.plain(
            sender="a@h.example.cn",
            subject="报修",
            body="人工来信",
            headers=("Auto-Submitted: no",),
        )
    )

    assert Ticket.objects.count() == 1


def test_automatic_replies_to_one_sender_are_capped_per_hour(mailbox: Any, settings: Any) -> None:
    settings.MAILBOX_REPLIES_PER_HOUR = 1
    for n in range(2):
        ingest(
            msgs.plain(
                sender="busy@h.example.cn", subject=f"问题{n}", body="x", message_id=f"<cap-{n}@h>"
            )
        )

    assert Ticket.objects.count() == 2
    assert len(django_mail.outbox) == 1


# --- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"\x00\x01\x02\x89PNG binary junk without any header\xff\xfe\r\n\r\nmore junk",
        b"Subject: no sender at all\r\nContent-Type: text/plain\r\n\r\nbody\r\n",
    ],
)
def test_unparseable_mail_is_kept_and_reported_to_the_owner(
    mailbox: Any, smtp_server: Any, raw: bytes
) -> None:
    inbound = ingest(raw)

    inbound.refresh_from_db()
    assert inbound.status == InboundStatus.FAILED
    assert inbound.error
    assert bytes(inbound.raw) == raw
    assert inbound.reported_at is not None
    assert Ticket.objects.count() == 0
    [report] = smtp_server.messages
    assert smtp_server.recipients == [["mailbox-owner@geriqc.example.cn"]]
    [attached] = list(report.iter_attachments())
    assert attached.get_content() == raw
    assert Notification.objects.filter(
        user=mailbox.ops_manager, event=replies.INBOUND_FAILED
    ).exists()


def test_huge_attachment_is_refused_with_a_reply_but_the_ticket_is_created(
    mailbox: Any, smtp_server: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(common, "MAX_ATTACHMENT_BYTES", 4096)
    raw = msgs.foxmail_with_attachment(
        attachment=b"\x89PNG" + b"\x00" * 10_000, filename="全院数据备份.png"
    )

    inbound = ingest(raw)

    assert inbound.status == InboundStatus.CREATED
    ticket = Ticket.objects.get()
    assert TicketAttachment.objects.filter(ticket=ticket).count() == 0
    assert "全院数据备份.png" in ticket.description
    assert (
        events_of(ticket, EventKind.CREATED)[0].data["refused_attachments"][0]["name"]
        == "全院数据备份.png"
    )
    [ack] = smtp_server.messages
    body = ack.get_content()
    assert ticket.number in smtp_server.subjects[0]
    assert "全院数据备份.png" in body and "上限" in body


def test_message_above_the_size_limit_keeps_its_header_and_is_refused_with_a_reply(
    mailbox: Any, settings: Any
) -> None:
    settings.MAILBOX_MAX_BYTES = 2048
    raw = msgs.foxmail_with_attachment(attachment=b"\x89PNG" + b"\x01" * 8000)

    inbound = ingest(raw)

    assert inbound.status == InboundStatus.REJECTED
    assert inbound.truncated and inbound.size == len(raw)
    assert bytes(inbound.raw).endswith(b"\r\n\r\n") and len(inbound.raw) < 2048
    assert Ticket.objects.count() == 0
    [reply] = django_mail.outbox
    assert reply.to == ["Reporter_A@Example.org"]
    assert "过大" in reply.subject


def test_smtp_down_does_not_lose_the_ticket(mailbox: Any, settings: Any) -> None:
    from tests.notify.conftest import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2

    inbound = ingest(msgs.foxmail_with_attachment())

    assert inbound.status == InboundStatus.CREATED
    assert Ticket.objects.count() == 1
    assert inbound.replied_at is None
    assert "自动回复发送失败" in InboundEmail.objects.get().error
