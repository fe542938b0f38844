"""Reading RFC 822 messages the way hospitals really send them.

The stdlib ``email`` package (``policy.default``) does the MIME work; this module adds what real
Chinese mail needs on top of it:

- charsets: a declared ``gb2312`` (or ``gbk``) is decoded as GB18030 — clients declare gb2312 but
  write GBK characters such as 镕 or 喆 — and ``big5`` as cp950 / Big5-HKSCS; an undeclared or
  wrong charset falls back to UTF-8, then GB18030, never raising;
- RFC 2047 encoded words in headers and RFC 2231 / RFC 2047 attachment names are decoded with the
  same charset rules (the stdlib would decode a GBK word labelled gb2312 to garbage), and raw 8-bit
  header bytes (sent unencoded by some clients) are recovered;
- HTML-only bodies become plain text; forwarded messages (``message/rfc822``) are kept as ``.eml``
  attachments instead of being mixed into the body;
- auto-replies and bounces are recognized (:func:`automatic_reason`) so they never open tickets.
"""

from __future__ import annotations

import email
import email.policy
import mimetypes
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.header import decode_header
from email.message import EmailMessage, Message
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser

from django.utils.translation import gettext as _

GB_CHARSETS = {
    "gb2312", "gb_2312", "gb_2312-80", "csgb2312", "euc-cn", "euccn", "x-euc-cn", "gbk", "x-gbk",
    "cp936", "ms936", "windows-936", "chinese", "gb18030", "iso-ir-58",
}  # fmt: skip
BIG5_CHARSETS = {
    "big5",
    "big-5",
    "x-big5",
    "cn-big5",
    "csbig5",
    "cp950",
    "ms950",
    "big5-hkscs",
    "big5hkscs",
}
UNDECLARED = {"", "us-ascii", "ascii", "unknown-8bit", "x-unknown", "unknown", "default"}

NUMBER_RE = re.compile(r"GQ-\d{4}-\d{6}", re.IGNORECASE)
MESSAGE_ID_RE = re.compile(r"<([^<>\s]+)>")
FOLD_RE = re.compile(r"\r?\n[ \t]+")

AUTO_SUBJECT_PREFIXES = (
    "自动回复", "自动答复", "自动应答", "auto reply", "auto-reply", "autoreply", "automatic reply",
    "out of office", "不在办公室", "undeliverable", "undelivered mail", "delivery status notification",
    "mail delivery failed", "delivery failure", "returned mail", "退信", "系统退信",
)  # fmt: skip
AUTO_HEADERS = (
    "x-autoreply",
    "x-autorespond",
    "x-auto-reply",
    "x-autoreply-from",
    "x-mail-autoreply",
)
BULK_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
DAEMON_LOCALPARTS = {"mailer-daemon", "postmaster", "mail-daemon", "maildaemon"}

MAX_BODY_CHARS = 100_000


class MailParseError(ValueError):
    """The bytes are not a usable e-mail (no header, no sender address)."""


@dataclass
class MailAttachment:
    name: str
    content_type: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class ParsedMail:
    """What intake needs from one message, decoded to text."""

    message_id: str
    in_reply_to: list[str]
    references: list[str]
    subject: str
    from_name: str
    from_address: str
    reply_to: str
    date: datetime | None
    text: str
    attachments: list[MailAttachment] = field(default_factory=list)
    auto_reason: str = ""

    @property
    def thread_ids(self) -> list[str]:
        """Message-IDs this one answers, most recent first (In-Reply-To, then References)."""
        seen: list[str] = []
        for mid in [*self.in_reply_to, *reversed(self.references)]:
            if mid not in seen:
                seen.append(mid)
        return seen

    @property
    def ticket_numbers(self) -> list[str]:
        return [n.upper() for n in NUMBER_RE.findall(self.subject)]


# --- decoding --------------------------------------------------------------------------------


def charset_candidates(declared: str | None) -> list[str]:
    """Codecs to try, in order, for text declared as ``declared``."""
    name = (declared or "").strip().strip("\"'").lower()
    if name in GB_CHARSETS:
        return ["gb18030"]
    if name in BIG5_CHARSETS:
        return ["cp950", "big5hkscs"]
    if name in UNDECLARED:
        return ["utf-8", "gb18030"]
    if name in {"utf-8", "utf8"}:
        return ["utf-8", "gb18030"]
    return [name, "utf-8", "gb18030"]


def decode_bytes(data: bytes, declared: str | None) -> str:
    """Decode ``data`` with the first codec that fits; never raises."""
    candidates = charset_candidates(declared)
    for codec in candidates:
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("gb18030", errors="replace")


def _recover_8bit(raw: str) -> str:
    """Headers with raw 8-bit bytes reach us as surrogate escapes; decode those bytes properly."""
    try:
        raw.encode("ascii")
    except UnicodeEncodeError:
        return decode_bytes(raw.encode("ascii", "surrogateescape"), None)
    return raw


def decode_header_text(raw: str | None) -> str:
    """An unstructured header value (Subject, a display name, a file name) as plain text."""
    if not raw:
        return ""
    text = _recover_8bit(FOLD_RE.sub(" ", str(raw)))
    try:
        parts = decode_header(text)
    except Exception:  # a malformed encoded word: show it as written
        return " ".join(text.split())
    out: list[str] = []
    for value, charset in parts:
        if isinstance(value, str):
            out.append(value)
        elif charset is None:
            out.append(value.decode("raw-unicode-escape", errors="replace"))
        else:
            out.append(decode_bytes(value, charset))
    return " ".join("".join(out).split())


def _raw_header(msg: Message, name: str) -> str | None:
    """The header's value as it was sent (before the policy decodes it)."""
    lowered = name.lower()
    for key, value in msg.raw_items():
        if key.lower() == lowered:
            return str(value)
    return None


def _message_ids(value: str | None) -> list[str]:
    if not value:
        return []
    found = MESSAGE_ID_RE.findall(value)
    if found:
        return [f"<{m}>" for m in found]
    bare = value.strip()
    return [bare] if bare and " " not in bare else []


def _address(msg: Message, name: str) -> tuple[str, str]:
    raw = _raw_header(msg, name)
    if not raw:
        return "", ""
    pairs = getaddresses([FOLD_RE.sub(" ", _recover_8bit(raw))])
    for display, address in pairs:
        if address and "@" in address:
            return decode_header_text(display).strip("\"' "), address.strip()
    return "", ""


def _date(msg: Message) -> datetime | None:
    raw = _raw_header(msg, "Date")
    if not raw:
        return None
    try:
        value = parsedate_to_datetime(FOLD_RE.sub(" ", raw).strip())
    except (TypeError, ValueError, IndexError):
        return None
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# --- body and attachments ----------------------------------------------------------------------


class _HTMLText(HTMLParser):
    """HTML → readable text: block elements become line breaks, scripts and styles vanish."""

    BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "pre",
              "blockquote", "hr", "ul", "ol", "section", "article", "header", "footer"}  # fmt: skip
    SKIP = {"script", "style", "head", "title"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")
        elif tag in {"td", "th"}:
            self.parts.append("\t")
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.parts.append(f"[{alt}]")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _HTMLText()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # broken markup: keep what was read
        pass
    return tidy_text("".join(parser.parts).replace("\xa0", " "))


def tidy_text(text: str) -> str:
    """Normalize line ends, strip trailing spaces, collapse runs of blank lines."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    out: list[str] = []
    for line in lines:
        if line.strip() or (out and out[-1]):
            out.append(line if line.strip() else "")
    return "\n".join(out).strip()[:MAX_BODY_CHARS]


def _param(part: Message, header: str, name: str) -> str | None:
    """A MIME parameter (RFC 2231 or RFC 2047 encoded, or raw 8-bit) decoded with our charset rules."""
    raw = _raw_header(part, header)
    if not raw:
        return None
    holder = Message()  # compat32: gives the parameter undecoded
    holder[header] = FOLD_RE.sub(" ", raw)
    value = holder.get_param(name, header=header)
    if value is None:
        return None
    if isinstance(value, tuple):  # RFC 2231: (charset, language, percent-decoded text)
        charset, _lang, text = value
        return decode_bytes(bytes(text, "raw-unicode-escape"), charset or None)
    return decode_header_text(str(value))


def _filename(part: Message) -> str:
    name = _param(part, "Content-Disposition", "filename") or _param(part, "Content-Type", "name")
    if not name:
        return ""
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).replace("\\", "/").rsplit("/", 1)[-1].strip()
    return name[:200]


def _text_of(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    return decode_bytes(payload, part.get_content_charset())


def _leaves(part: Message) -> list[Message]:
    """Leaf parts in order; a forwarded message (message/rfc822) is one leaf, not descended into."""
    if part.get_content_type() == "message/rfc822":
        return [part]
    if part.is_multipart():
        leaves: list[Message] = []
        for sub in part.get_payload():  # type: ignore[union-attr]
            if isinstance(sub, Message):
                leaves.extend(_leaves(sub))
        return leaves
    return [part]


def _attachment(part: Message, index: int) -> MailAttachment:
    ctype = part.get_content_type()
    if ctype == "message/rfc822":
        inner = part.get_payload(0) if part.is_multipart() else None
        data = inner.as_bytes() if isinstance(inner, Message) else b""
        subject = (
            decode_header_text(_raw_header(inner, "Subject")) if isinstance(inner, Message) else ""
        )
        name = _filename(part) or f"{subject or _('转发的邮件')}.eml"
        return MailAttachment(name=name[:200], content_type=ctype, data=data)
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    name = _filename(part)
    if not name:
        ext = mimetypes.guess_extension(ctype) or ".bin"
        name = _("附件%(n)d%(ext)s") % {"n": index, "ext": ext}
    return MailAttachment(name=name, content_type=ctype, data=data)


def _body_and_attachments(msg: Message) -> tuple[str, list[MailAttachment]]:
    plain: list[str] = []
    html: list[str] = []
    attachments: list[MailAttachment] = []
    for leaf in _leaves(msg):
        ctype = leaf.get_content_type()
        disposition = leaf.get_content_disposition()
        is_body = (
            ctype in {"text/plain", "text/html"}
            and disposition != "attachment"
            and not _filename(leaf)
        )
        if is_body:
            (plain if ctype == "text/plain" else html).append(_text_of(leaf))
        else:
            attachments.append(_attachment(leaf, len(attachments) + 1))
    text = tidy_text("\n\n".join(plain)) if any(p.strip() for p in plain) else ""
    if not text and html:
        text = html_to_text("\n".join(html))
    return text, attachments


# --- loops and auto-replies --------------------------------------------------------------------


def automatic_reason(msg: Message, from_address: str, subject: str, own_addresses: set[str]) -> str:
    """Why this message is machine-generated (so it must open no ticket and get no reply), or ""."""
    auto = (_raw_header(msg, "Auto-Submitted") or "").strip().lower()
    if auto and not auto.startswith("no"):
        return f"Auto-Submitted: {auto}"[:200]
    precedence = (_raw_header(msg, "Precedence") or "").strip().lower()
    if precedence in BULK_PRECEDENCE:
        return f"Precedence: {precedence}"
    for name in AUTO_HEADERS:
        value = _raw_header(msg, name)
        if value is not None and value.strip().lower() not in {"no", "false", "0"}:
            return f"{name}: {value.strip()}"[:200]
    if _raw_header(msg, "X-Failed-Recipients") is not None:
        return _("退信（X-Failed-Recipients）")
    if msg.get_content_type() == "multipart/report":
        return _("退信或回执（multipart/report）")
    return_path = _raw_header(msg, "Return-Path")
    if return_path is not None and return_path.strip() in {"<>", ""}:
        return _("退信（空 Return-Path）")
    local = from_address.split("@", 1)[0].lower()
    if local in DAEMON_LOCALPARTS:
        return _("退信（发件人 %(addr)s）") % {"addr": from_address}
    if from_address.lower() in own_addresses:
        return _("本系统自己发出的邮件（防止回环）")
    lowered = subject.lower()
    for prefix in AUTO_SUBJECT_PREFIXES:
        if lowered.startswith(prefix):
            return _("自动回复（主题“%(subject)s”）") % {"subject": subject[:80]}
    return ""


# --- entry point -------------------------------------------------------------------------------


def parse(raw: bytes, own_addresses: set[str] | None = None) -> ParsedMail:
    """Parse one RFC 822 message. Raises :class:`MailParseError` when it is not a usable e-mail."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    if not msg.keys():
        raise MailParseError(_("不是有效的邮件：没有邮件头。"))
    from_name, from_address = _address(msg, "From")
    if not from_address:
        from_name, from_address = _address(msg, "Sender")
    if not from_address:
        raise MailParseError(_("邮件缺少可识别的发件人地址（From）。"))
    subject = decode_header_text(_raw_header(msg, "Subject"))
    reason = automatic_reason(msg, from_address, subject, own_addresses or set())
    text, attachments = ("", []) if reason else _body_and_attachments(msg)
    _reply_name, reply_to = _address(msg, "Reply-To")
    message_ids = _message_ids(_raw_header(msg, "Message-ID"))
    return ParsedMail(
        message_id=message_ids[0][:255] if message_ids else "",
        in_reply_to=_message_ids(_raw_header(msg, "In-Reply-To")),
        references=_message_ids(_raw_header(msg, "References")),
        subject=subject,
        from_name=from_name,
        from_address=from_address,
        reply_to=reply_to or from_address,
        date=_date(msg),
        text=text,
        attachments=attachments,
        auto_reason=reason,
    )


REPLY_MARKERS = re.compile(
    r"^(?:-{2,}\s*(?:原始邮件|Original Message|原始郵件|Forwarded message|转发的邮件)\s*-{2,}"
    r"|_{10,}"
    r"|(?:发件人|寄件者|From)\s*[:：].+"
    r"|On .+wrote:"
    r"|在\s*\d{4}.+写道[:：]?"
    r"|>.*)$",
    re.IGNORECASE,
)


def strip_quoted(text: str) -> str:
    """The new part of a reply: everything above the first quote marker (or all of it)."""
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if index and REPLY_MARKERS.match(line.strip()):
            head = tidy_text("\n".join(lines[:index]))
            return head or text
    return text
