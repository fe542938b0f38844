"""Real-shaped e-mails as raw bytes, written the way the clients hospitals use send them
(Foxmail, Outlook, QQ mail, Tencent Exmail, Apple Mail, MTAs' bounces): CRLF line ends, folded
headers, RFC 2047 words in the clients' own charsets, base64 / quoted-printable / 8bit bodies."""

from __future__ import annotations

import base64
import quopri

# A 1×1 PNG: an attachment whose bytes we can compare after storage.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
OPS = "ops@geriqc.example.cn"


def word(text: str, charset: str) -> str:
    """An RFC 2047 encoded word (B encoding), as Foxmail / Outlook write them."""
    return f"=?{charset}?B?{base64.b64encode(text.encode(_codec(charset))).decode()}?="


def _codec(charset: str) -> str:
    # Clients write GBK into "gb2312" and Windows code page 950 into "big5".
    return {"GB2312": "gbk", "gb2312": "gbk", "big5": "cp950", "Big5": "cp950"}.get(
        charset, charset
    )


def b64_lines(data: bytes) -> list[str]:
    encoded = base64.b64encode(data).decode()
    return [encoded[i : i + 76] for i in range(0, len(encoded), 76)] or [""]


def crlf(lines: list[str]) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def foxmail_with_attachment(
    *,
    sender: str = "Reporter_A@Example.org",
    name: str = "王喆",
    subject: str = "王喆反映：质控平台登录后白屏",
    body: str = "您好：\r\n今天上午8点起，我院质控专员登录平台后页面一片空白，截图见附件。\r\n王喆",
    attachment: bytes = PNG,
    filename: str = "登录报错截图.png",
    message_id: str = "<202603020855001234567@hospital-a.example.cn>",
    date: str = "Mon, 2 Mar 2026 08:55:00 +0800",
    extra_headers: tuple[str, ...] = (),
) -> bytes:
    """Foxmail: multipart/mixed → alternative (GB2312 base64 text + QP HTML) + a PNG whose name is
    an RFC 2047 GBK word; the charset is declared gb2312 while the text uses GBK-only characters."""
    html = f"<html><body><div>{body.replace(chr(13) + chr(10), '<br>')}</div></body></html>"
    html_qp = quopri.encodestring(html.encode("gbk")).decode("ascii").replace("\n", "\r\n")
    return crlf(
        [
            "Received: from WIN-7QK3 ([10.20.1.15]) by mail.hospital-a.example.cn; Mon, 02 Mar 2026 08:55:02 +0800",
            f"Date: {date}",
            f'From: "{word(name, "GB2312")}" <{sender}>',
            f'To: "{word("运维中心", "GB2312")}" <{OPS}>',
            f"Subject: {word(subject, 'GB2312')}",
            "X-Priority: 3",
            "X-Mailer: Foxmail 7.2.25.228[cn]",
            "Mime-Version: 1.0",
            f"Message-ID: <{message_id.strip('<>')}>",
            *extra_headers,
            "Content-Type: multipart/mixed;",
            '\tboundary="----=_001_NextPart572182624333_=----"',
            "",
            "This is a multi-part message in MIME format.",
            "",
            "------=_001_NextPart572182624333_=----",
            "Content-Type: multipart/alternative;",
            '\tboundary="----=_002_NextPart125681563211_=----"',
            "",
            "",
            "------=_002_NextPart125681563211_=----",
            "Content-Type: text/plain;",
            '\tcharset="GB2312"',
            "Content-Transfer-Encoding: base64",
            "",
            *b64_lines(body.encode("gbk")),
            "",
            "------=_002_NextPart125681563211_=----",
            "Content-Type: text/html;",
            '\tcharset="GB2312"',
            "Content-Transfer-Encoding: quoted-printable",
            "",
            html_qp,
            "",
            "------=_002_NextPart125681563211_=------",
            "",
            "------=_001_NextPart572182624333_=----",
            "Content-Type: image/png;",
            f'\tname="{word(filename, "GBK")}"',
            "Content-Transfer-Encoding: base64",
            "Content-Disposition: attachment;",
            f'\tfilename="{word(filename, "GBK")}"',
            "",
            *b64_lines(attachment),
            "",
            "------=_001_NextPart572182624333_=------",
        ]
    )


def plain(
    *,
    sender: str,
    subject: str,
    body: str,
    charset: str = "UTF-8",
    subject_charset: str | None = None,
    name: str = "",
    message_id: str = "<plain-1@mail.example.cn>",
    date: str = "Mon, 2 Mar 2026 08:58:00 +0800",
    headers: tuple[str, ...] = (),
    transfer: str = "base64",
) -> bytes:
    """A single-part text mail (QQ mail / Exmail / Outlook style)."""
    subject_value = word(subject, subject_charset or charset) if not subject.isascii() else subject
    from_value = f'"{word(name, subject_charset or charset)}" <{sender}>' if name else sender
    data = body.encode(_codec(charset))
    if transfer == "base64":
        payload = b64_lines(data)
        head = crlf(
            [
                f"Date: {date}",
                f"From: {from_value}",
                f"To: {OPS}",
                f"Subject: {subject_value}",
                f"Message-ID: {message_id}",
                *headers,
                "MIME-Version: 1.0",
                f'Content-Type: text/plain; charset="{charset}"',
                "Content-Transfer-Encoding: base64",
                "",
                *payload,
            ]
        )
        return head
    head = crlf(
        [
            f"Date: {date}",
            f"From: {from_value}",
            f"To: {OPS}",
            f"Subject: {subject_value}",
            f"Message-ID: {message_id}",
            *headers,
            "MIME-Version: 1.0",
            f"Content-Type: text/plain; charset={charset}",
            "Content-Transfer-Encoding: 8bit",
            "",
        ]
    )
    return head + data.replace(b"\n", b"\r\n") + b"\r\n"


def html_only(
    *, sender: str, subject: str, html: str, message_id: str = "<html-1@exmail.qq.com>"
) -> bytes:
    """Tencent Exmail web client: an HTML-only body, UTF-8, base64."""
    return crlf(
        [
            "Date: Mon, 2 Mar 2026 08:59:00 +0800",
            f"From: {sender}",
            f"To: {OPS}",
            f"Subject: {word(subject, 'UTF-8')}",
            f"Message-ID: {message_id}",
            "X-Mailer: Tencent Exmail",
            "MIME-Version: 1.0",
            'Content-Type: text/html; charset="utf-8"',
            "Content-Transfer-Encoding: base64",
            "",
            *b64_lines(html.encode("utf-8")),
        ]
    )


def bounce(*, original_subject: str = "[GQ-2026-000001] 已收到您的报修") -> bytes:
    """Postfix's non-delivery report (multipart/report, empty Return-Path, MAILER-DAEMON)."""
    return crlf(
        [
            "Return-Path: <>",
            "Date: Mon,  2 Mar 2026 09:01:02 +0800 (CST)",
            "From: MAILER-DAEMON@mail.hospital-a.example.cn (Mail Delivery System)",
            "Subject: Undelivered Mail Returned to Sender",
            f"To: {OPS}",
            "Auto-Submitted: auto-replied",
            "MIME-Version: 1.0",
            "Content-Type: multipart/report; report-type=delivery-status;",
            '\tboundary="4A3F1C2B.1772413262/mail.hospital-a.example.cn"',
            "Message-Id: <20260302010102.4A3F1C2B@mail.hospital-a.example.cn>",
            "",
            "This is a MIME-encapsulated message.",
            "",
            "--4A3F1C2B.1772413262/mail.hospital-a.example.cn",
            "Content-Description: Notification",
            "Content-Type: text/plain; charset=us-ascii",
            "",
            "I'm sorry to have to inform you that your message could not",
            "be delivered to one or more recipients.",
            "",
            "<nobody@hospital-a.example.cn>: unknown user",
            "",
            "--4A3F1C2B.1772413262/mail.hospital-a.example.cn",
            "Content-Description: Delivery report",
            "Content-Type: message/delivery-status",
            "",
            "Reporting-MTA: dns; mail.hospital-a.example.cn",
            "",
            "Final-Recipient: rfc822; nobody@hospital-a.example.cn",
            "Action: failed",
            "Status: 5.1.1",
            "",
            "--4A3F1C2B.1772413262/mail.hospital-a.example.cn",
            "Content-Description: Undelivered Message Headers",
            "Content-Type: text/rfc822-headers",
            "",
            f"Subject: {word(original_subject, 'UTF-8')}",
            "",
            "--4A3F1C2B.1772413262/mail.hospital-a.example.cn--",
        ]
    )


def outlook_out_of_office(*, sender: str = "reporter_a@example.org") -> bytes:
    """Exchange / Outlook "自动答复" (Auto-Submitted: auto-generated)."""
    return plain(
        sender=sender,
        subject="自动答复: [GQ-2026-000001] 已收到您的报修",
        body="我正在休假，3月9日返回，急事请联系科室电话。",
        message_id="<oof-1@hospital-a.example.cn>",
        headers=("Auto-Submitted: auto-generated", "X-Auto-Response-Suppress: All"),
    )
