"""Configuration from the environment: defaults, valid values, and clear refusals."""

import subprocess
import sys
from zoneinfo import ZoneInfo

import pytest

from hello_birthday.settings import Settings, SettingsError
from hello_birthday.store import open_store


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.store_url == "sqlite:///hello-birthday.db"
    assert settings.timezone == ZoneInfo("UTC")
    assert settings.store_timeout == 1.0
    assert (settings.shutdown_timeout, settings.keepalive_timeout) == (20, 75)
    assert settings.log_level == "info"
    assert settings.access_log is True


def test_values_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "HELLO_STORE": "dynamodb://birthdays",
            "AWS_REGION": "eu-west-1",
            "HELLO_TIMEZONE": "Pacific/Kiritimati",
            "HELLO_STORE_TIMEOUT": "0.5",
            "HELLO_SHUTDOWN_TIMEOUT": "10",
            "HELLO_ACCESS_LOG": "off",
            "HELLO_LOG_LEVEL": "WARNING",
        }
    )
    assert settings.store_url == "dynamodb://birthdays"
    assert settings.timezone == ZoneInfo("Pacific/Kiritimati")
    assert (settings.store_timeout, settings.shutdown_timeout) == (0.5, 10)
    assert settings.access_log is False
    assert settings.log_level == "warning"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("HELLO_TIMEZONE", "Mars/Olympus"),
        ("HELLO_TIMEZONE", "../etc/passwd"),
        ("HELLO_STORE_TIMEOUT", "soon"),
        ("HELLO_STORE_TIMEOUT", "0"),
        ("HELLO_SHUTDOWN_TIMEOUT", "-1"),
        # uvicorn takes whole seconds: 0.5 must not quietly become 0 (no drain at all).
        ("HELLO_SHUTDOWN_TIMEOUT", "0.5"),
        ("HELLO_KEEPALIVE_TIMEOUT", "7.5"),
        ("HELLO_KEEPALIVE_TIMEOUT", "3600"),
        ("HELLO_ACCESS_LOG", "maybe"),
        ("HELLO_LOG_LEVEL", "verbose"),
    ],
)
def test_bad_values_are_refused_with_the_variable_named(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


@pytest.mark.parametrize(
    "url",
    [
        "postgres://db",
        "sqlite://relative.db",
        "sqlite:///",
        "dynamodb://",
        "dynamodb://ab",
        "dynamodb://bad table!",
        "birthdays",
    ],
)
def test_unknown_store_urls_are_refused(url: str) -> None:
    with pytest.raises(SettingsError, match="HELLO_STORE"):
        Settings.from_env({"HELLO_STORE": url})
    with pytest.raises(ValueError, match="HELLO_STORE"):
        open_store(url, 1.0)


def test_cli_refuses_bad_settings_before_serving() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from hello_birthday.cli import main; main()"],
        env={"HELLO_TIMEZONE": "Nowhere/Land", "PATH": ""},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "HELLO_TIMEZONE='Nowhere/Land' is not an IANA time zone" in result.stderr


@pytest.mark.parametrize("region", [{}, {"AWS_REGION": ""}])
def test_a_dynamodb_store_without_a_region_is_refused_at_start(region: dict[str, str]) -> None:
    with pytest.raises(SettingsError, match="AWS_REGION"):
        Settings.from_env({"HELLO_STORE": "dynamodb://birthdays", **region})
    # Either variable will do, as for the AWS SDKs.
    assert Settings.from_env({"HELLO_STORE": "dynamodb://birthdays", "AWS_DEFAULT_REGION": "x"})
