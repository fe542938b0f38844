"""Sign-in security: lockout, password complexity, first-login change, idle timeout."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from qc_core.accounts.services import create_user
from qc_core.system import clock
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def login(client, username, password):
    return client.post(LOGIN, {"username": username, "password": password})


def test_wrong_password_shows_chinese_error_without_stack_trace(personas):
    response = login(Client(), "reporter_a", "wrong")
    assert response.status_code == 200
    text = response.content.decode()
    assert "用户名或密码错误" in text
    assert "Traceback" not in text


def test_five_failures_lock_the_account_for_thirty_minutes(personas):
    client = Client()
    for _ in range(5):
        login(client, "reporter_a", "wrong")
    locked = login(client, "reporter_a", PASSWORD)
    assert locked.status_code == 403
    assert "锁定" in locked.content.decode() and "30 分钟" in locked.content.decode()
    # The API refuses too, with the same reason.
    api = APIClient().post(
        "/api/v1/auth/token/", {"username": "reporter_a", "password": PASSWORD}, format="json"
    )
    assert api.status_code == 403
    assert api.json()["code"] == "account_locked"
    # Other accounts are unaffected (lockout is per account, not per IP).
    assert login(Client(), "reporter_b", PASSWORD).status_code == 302
    with time_machine.travel(clock.now() + timedelta(minutes=31)):
        assert login(Client(), "reporter_a", PASSWORD).status_code == 302


def test_four_failures_then_success_resets_the_counter(personas):
    client = Client()
    for _ in range(4):
        login(client, "reporter_a", "wrong")
    assert login(client, "reporter_a", PASSWORD).status_code == 302
    for _ in range(4):
        login(Client(), "reporter_a", "wrong")
    assert login(Client(), "reporter_a", PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("Short1!", False),  # too short
        ("alllowercaseletters", False),  # one class
        ("lowercase123456", False),  # two classes
        ("Lowercase123456", True),  # upper, lower, digit
        ("lower-case-12345", True),  # lower, digit, symbol
        ("云南老年医学Abc123", True),
    ],
)
def test_password_complexity_rules(password, ok):
    if ok:
        validate_password(password)
    else:
        with pytest.raises(ValidationError):
            validate_password(password)


def test_passwords_are_hashed_with_argon2():
    # The tests swap in a fast hasher; the project's own settings module must keep Argon2 first.
    import config.settings as project_settings

    assert project_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def test_admin_created_user_must_change_password_at_first_login(org_tree):
    create_user("newbie", "Initial-Passw0rd", roles=[("unit_reporter", org_tree.hospital_a)])
    client = Client()
    response = login(client, "newbie", "Initial-Passw0rd")
    assert response.status_code == 302
    home = client.get("/")
    assert home.status_code == 302 and home["Location"] == reverse("accounts:password_change")
    assert client.get("/api/v1/me/").status_code == 403
    weak = client.post(
        reverse("accounts:password_change"),
        {"old_password": "Initial-Passw0rd", "new_password1": "simple", "new_password2": "simple"},
    )
    assert weak.status_code == 200
    assert "至少" in weak.content.decode()
    done = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": "Initial-Passw0rd",
            "new_password1": "Better-Passw0rd!",
            "new_password2": "Better-Passw0rd!",
        },
    )
    assert done.status_code == 302
    assert client.get("/").status_code == 200


def test_idle_session_expires_after_thirty_minutes(personas):
    client = Client()
    with time_machine.travel(clock.now(), tick=False) as traveller:
        assert login(client, "reporter_a", PASSWORD).status_code == 302
        assert client.get("/").status_code == 200
        traveller.shift(timedelta(minutes=29))
        assert client.get("/").status_code == 200  # activity renews the idle timer
        traveller.shift(timedelta(minutes=29))
        assert client.get("/").status_code == 200
        traveller.shift(timedelta(minutes=31))
        expired = client.get("/", follow=True)
        assert expired.redirect_chain[-1][0].startswith(reverse("accounts:login"))
        assert "会话已过期" in expired.content.decode()
        assert client.get("/api/v1/me/").status_code in (401, 403)


def test_background_polls_do_not_keep_an_idle_session_alive(personas):
    client = Client()
    with time_machine.travel(clock.now(), tick=False) as traveller:
        login(client, "reporter_a", PASSWORD)
        client.get("/")
        for _ in range(4):
            traveller.shift(timedelta(minutes=10))
            client.get("/", HTTP_X_BACKGROUND_POLL="1")
        assert client.get("/").status_code == 302


def test_logout_requires_post_and_ends_the_session(personas):
    client = Client()
    login(client, "reporter_a", PASSWORD)
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert client.get("/").status_code == 302
