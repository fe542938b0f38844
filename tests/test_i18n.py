"""Translation catalogs: msgids are Chinese (zh-hans, the source language); English is complete.

The .po files are parsed here by hand (polib is not a dependency) so the checks run anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.utils import translation

EN_PO = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.po"
ZH_PO = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
_FIELD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+"(.*)"$')
_PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[sdifr]|%%|\{\{ *\w+ *\}\}|\{\w+\}")


@dataclass
class Entry:
    flags: set[str] = field(default_factory=set)
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def msgstrs(self) -> list[str]:
        return [v for k, v in self.fields.items() if k.startswith("msgstr")]


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES[m.group(1)], text)


def parse_po(path: Path) -> list[Entry]:
    """Entries of a .po file, header excluded; obsolete (#~) entries are ignored."""
    entries: list[Entry] = []
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
        entry, key = Entry(), ""
        for line in block.splitlines():
            if line.startswith("#,"):
                entry.flags |= {f.strip() for f in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                entry.fields[key] += _unquote(line.strip()[1:-1])
            elif m := _FIELD.match(line):
                key = m.group(1)
                entry.fields[key] = _unquote(m.group(2))
        if entry.fields.get("msgid"):
            entries.append(entry)
    return entries


@pytest.fixture(autouse=True)
def _reset_language() -> Iterator[None]:
    """LocaleMiddleware leaves the request's language active on the thread; later tests must
    not inherit English."""
    yield
    translation.deactivate()


@pytest.fixture(scope="module")
def en_entries() -> list[Entry]:
    return parse_po(EN_PO)


def _label(e: Entry) -> str:
    return e.fields["msgid"][:60]


def test_english_catalog_has_no_untranslated_or_fuzzy_entries(en_entries: list[Entry]) -> None:
    assert len(en_entries) > 100
    untranslated = [_label(e) for e in en_entries if not all(s.strip() for s in e.msgstrs)]
    fuzzy = [_label(e) for e in en_entries if "fuzzy" in e.flags]
    assert untranslated == []
    assert fuzzy == []


def _placeholders(text: str) -> set[str]:
    """Named placeholders with their conversion; width/precision may differ (e.g. %(n)02d)."""
    return {re.sub(r"\)[-#0 +]*\d*(?:\.\d+)?", ")", p) for p in _PLACEHOLDER.findall(text)}


def test_english_translations_keep_every_placeholder(en_entries: list[Entry]) -> None:
    wrong = []
    for e in en_entries:
        sources = [e.fields["msgid"], e.fields.get("msgid_plural", e.fields["msgid"])]
        for i, target in enumerate(e.msgstrs):
            source = sources[min(i, 1)]
            if _placeholders(source) != _placeholders(target):
                wrong.append((_label(e), target))
    assert wrong == []


def test_english_catalog_is_compiled_and_up_to_date(en_entries: list[Entry]) -> None:
    """GIVEN the English .po WHEN Django translates each msgid THEN it returns the .po msgstr
    (a stale or missing .mo fails here: run compilemessages)."""
    stale = []
    with translation.override("en"):
        for e in en_entries:
            msgid = e.fields["msgid"]
            if "msgctxt" in e.fields:
                continue
            if "msgid_plural" in e.fields:
                got = [translation.ngettext(msgid, e.fields["msgid_plural"], n) for n in (1, 2)]
                want = [e.fields["msgstr[0]"], e.fields["msgstr[1]"]]
            else:
                got, want = [translation.gettext(msgid)], [e.fields["msgstr"]]
            if got != want:
                stale.append(_label(e))
    assert stale == []


def test_chinese_catalog_lists_the_same_msgids_and_overrides_nothing(
    en_entries: list[Entry],
) -> None:
    zh = parse_po(ZH_PO)
    assert {e.fields["msgid"] for e in zh} == {e.fields["msgid"] for e in en_entries}
    assert [_label(e) for e in zh if any(e.msgstrs)] == []


@pytest.mark.django_db
def test_login_page_renders_in_chinese_by_default(client: Any) -> None:
    html = client.get("/accounts/login/").content.decode()
    assert '<html lang="zh-hans">' in html
    assert "用户名" in html
    assert "请使用单位分配的账户登录" in html
    assert "Username" not in html


@pytest.mark.django_db
def test_login_page_renders_in_english_with_language_cookie(client: Any) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get("/accounts/login/").content.decode()
    assert '<html lang="en">' in html
    assert "Log in with the account assigned by your institution" in html
    assert "Username" in html
    assert "用户名" not in html


@pytest.mark.django_db
def test_language_switcher_sets_english_for_later_pages(client: Any) -> None:
    response = client.post(
        "/i18n/setlang/", {"language": "en", "next": "/accounts/login/"}, follow=True
    )
    assert response.status_code == 200
    assert "Yunnan Geriatric Medicine QC Platform" in response.content.decode()
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"


@pytest.mark.django_db
def test_home_page_renders_in_english_for_signed_in_user(personas: Any, client_as: Any) -> None:
    c = client_as(personas.reporter_a)
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = c.get("/").content.decode()
    assert "Welcome to the Yunnan Geriatric Medicine QC Platform." in html
    assert "Member institution QC officer" in html
    assert "欢迎使用" not in html
