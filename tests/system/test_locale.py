"""Chinese first: only an explicit choice switches the UI to English."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_an_english_browser_still_gets_chinese_by_default():
    page = Client().get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "登录" in page
    assert 'lang="zh-hans"' in page


def test_the_language_switch_selects_english_and_back():
    client = Client()
    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert 'lang="en"' in client.get("/accounts/login/").content.decode()
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/accounts/login/"})
    assert (
        'lang="zh-hans"'
        in client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    )


def test_an_unknown_language_cookie_falls_back_to_chinese():
    client = Client()
    client.cookies["django_language"] = "fr"
    assert 'lang="zh-hans"' in client.get("/accounts/login/").content.decode()
