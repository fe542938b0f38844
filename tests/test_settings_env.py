"""The typed environment parsers fail loudly, naming the variable (config/env.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_choice, env_int, env_list, env_str, parse_cache_url

NAME = "GERIQC_TEST_SETTING"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(NAME, raising=False)
    monkeypatch.delenv(f"{NAME}_FILE", raising=False)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True),
        ("true", True),
        ("YES", True),
        (" on ", True),
        ("0", False),
        ("false", False),
        ("No", False),
        ("", False),
    ],
)
def test_booleans_accept_the_usual_spellings(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: bool
) -> None:
    monkeypatch.setenv(NAME, raw)
    assert env_bool(NAME, not expected) is expected


def test_unset_variables_give_their_defaults() -> None:
    assert env_bool(NAME, True) is True
    assert env_int(NAME, 7) == 7
    assert env_str(NAME, "fallback") == "fallback"
    assert env_str(NAME) == ""
    assert env_list(NAME, ["a"]) == ["a"]
    assert env_choice(NAME, "INFO", {"INFO", "DEBUG"}) == "INFO"


@pytest.mark.parametrize(
    ("parser", "raw", "reason"),
    [
        (lambda: env_bool(NAME, False), "maybe", "not a boolean"),
        (lambda: env_int(NAME, 1), "ten", "not an integer"),
        (lambda: env_int(NAME, 1, minimum=1), "0", "below the minimum 1"),
        (lambda: env_choice(NAME, "INFO", {"INFO", "DEBUG"}), "VERBOSE", "is not one of"),
    ],
)
def test_bad_values_fail_loudly_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, parser: object, raw: str, reason: str
) -> None:
    monkeypatch.setenv(NAME, raw)
    with pytest.raises(ImproperlyConfigured) as excinfo:
        parser()  # type: ignore[operator]
    assert NAME in str(excinfo.value)
    assert reason in str(excinfo.value)


def test_required_variable_missing_is_named() -> None:
    with pytest.raises(ImproperlyConfigured, match=NAME):
        env_str(NAME, required=True)


def test_integers_tolerate_surrounding_spaces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(NAME, " 42 ")
    assert env_int(NAME, 1, minimum=1) == 42


def test_lists_split_on_commas_and_drop_blanks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(NAME, " qc.example.org, ,10.0.0.5 ,")
    assert env_list(NAME, ["default"]) == ["qc.example.org", "10.0.0.5"]
    monkeypatch.setenv(NAME, "")
    assert env_list(NAME, ["default"]) == []


def test_secret_is_read_from_name_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("s3cr3t-from-file\n", encoding="utf-8")
    monkeypatch.setenv(f"{NAME}_FILE", str(secret))
    assert env_str(NAME) == "s3cr3t-from-file"


def test_variable_wins_over_its_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("from-file", encoding="utf-8")
    monkeypatch.setenv(f"{NAME}_FILE", str(secret))
    monkeypatch.setenv(NAME, "from-env")
    assert env_str(NAME) == "from-env"


def test_file_values_go_through_the_typed_parsers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    value = tmp_path / "port"
    value.write_text("not-a-port", encoding="utf-8")
    monkeypatch.setenv(f"{NAME}_FILE", str(value))
    with pytest.raises(ImproperlyConfigured, match=NAME):
        env_int(NAME, 25)


def test_unreadable_name_file_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(f"{NAME}_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match=f"{NAME}_FILE"):
        env_str(NAME)


@pytest.mark.parametrize(
    ("url", "backend", "location"),
    [
        ("locmem://", "django.core.cache.backends.locmem.LocMemCache", "geriqc"),
        ("locmem://other", "django.core.cache.backends.locmem.LocMemCache", "other"),
        (
            "file:///var/tmp/geriqc-cache",
            "django.core.cache.backends.filebased.FileBasedCache",
            "/var/tmp/geriqc-cache",
        ),
        ("db://", "django.core.cache.backends.db.DatabaseCache", "geriqc_cache"),
        (
            "redis://127.0.0.1:6379/1",
            "django.core.cache.backends.redis.RedisCache",
            "redis://127.0.0.1:6379/1",
        ),
        (
            "rediss://cache.example:6380/0",
            "django.core.cache.backends.redis.RedisCache",
            "rediss://cache.example:6380/0",
        ),
    ],
)
def test_cache_urls_map_to_django_backends(url: str, backend: str, location: str) -> None:
    entry = parse_cache_url("CACHE_URL", url)
    assert entry["BACKEND"] == backend
    assert entry["LOCATION"] == location


def test_dummy_cache_url_has_no_location() -> None:
    assert parse_cache_url("CACHE_URL", "dummy://") == {
        "BACKEND": "django.core.cache.backends.dummy.DummyCache"
    }


def test_redis_cache_query_becomes_options() -> None:
    entry = parse_cache_url("CACHE_URL", "redis://127.0.0.1:6379/2?socket_timeout=3")
    assert entry["LOCATION"] == "redis://127.0.0.1:6379/2"
    assert entry["OPTIONS"] == {"socket_timeout": "3"}


def test_unknown_cache_scheme_fails_naming_the_variable() -> None:
    with pytest.raises(ImproperlyConfigured, match="CACHE_URL.*memcached"):
        parse_cache_url("CACHE_URL", "memcached://127.0.0.1:11211")


ROOT = Path(__file__).resolve().parent.parent
READERS = re.compile(r"""\benv_(?:str|bool|int|list|choice)\(\s*["']([A-Z][A-Z0-9_]*)["']""")
RUNNER_READERS = re.compile(r"""(?:os\.environ\.get|_int)\(\s*["']([A-Z][A-Z0-9_]*)["']""")


def _documented_rows() -> list[str]:
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    return re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", text, flags=re.MULTILINE)


@pytest.mark.parametrize(
    ("source", "pattern"),
    [("config/settings.py", READERS), ("config/gunicorn.conf.py", RUNNER_READERS)],
)
def test_every_environment_variable_is_documented_exactly_once(
    source: str, pattern: re.Pattern[str]
) -> None:
    read = set(pattern.findall((ROOT / source).read_text(encoding="utf-8")))
    assert read, f"no variables found in {source}: has the parsing changed?"
    rows = _documented_rows()
    missing = sorted(name for name in read if name not in rows)
    repeated = sorted({name for name in rows if rows.count(name) > 1})
    assert not missing, f"read by {source} but not in docs/configuration.md: {missing}"
    assert not repeated, f"listed more than once in docs/configuration.md: {repeated}"
