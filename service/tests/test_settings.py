"""Configuration from the environment: defaults, valid values, and clear refusals."""

import subprocess
import sys
from zoneinfo import ZoneInfo

import pytest

from hello_birthday.cli import MAX_WORKERS, parser
from hello_birthday.settings import (
    BACKLOG,
    KEEPALIVE_TIMEOUT,
    MAX_CONNECTIONS,
    SHUTDOWN_TIMEOUT,
    STORE_TIMEOUT,
    Settings,
    SettingsError,
)
from hello_birthday.store import open_store


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.store_url == "sqlite:///hello-birthday.db"
    assert settings.timezone == ZoneInfo("UTC")
    assert settings.store_timeout == 1.0
    assert (settings.shutdown_timeout, settings.keepalive_timeout) == (20, 75)
    assert settings.log_level == "info"
    assert settings.access_log is True
    assert (settings.max_connections, settings.backlog) == (896, 2048)
    assert (settings.aws_region, settings.dynamodb_endpoint) == (None, None)
    # The settings the tests build in code are those the service runs with by default.
    assert settings == Settings()


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
    assert settings.aws_region == "eu-west-1"


def test_the_store_timeout_sets_each_of_the_stores_time_bounds() -> None:
    settings = Settings.from_env({"HELLO_STORE_TIMEOUT": "0.5"})
    assert settings.sqlite_lock_wait == 0.5
    assert settings.dynamodb_attempt_timeout == 0.5
    assert settings.dynamodb_call_deadline == 0.75  # the attempt and its one retry


@pytest.mark.parametrize(
    ("env", "region"),
    [
        ({"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-east-1"}, "eu-west-1"),
        ({"AWS_REGION": "", "AWS_DEFAULT_REGION": "us-east-1"}, "us-east-1"),
        ({"AWS_DEFAULT_REGION": "us-east-1"}, "us-east-1"),
        ({"AWS_REGION": ""}, None),
    ],
)
def test_the_region_is_read_as_the_aws_sdks_read_it(
    env: dict[str, str], region: str | None
) -> None:
    assert Settings.from_env(env).aws_region == region


GENERAL, DYNAMODB = "http://127.0.0.1:4566", "http://127.0.0.1:8000"


@pytest.mark.parametrize(
    ("env", "endpoint"),
    [
        ({"AWS_ENDPOINT_URL": GENERAL, "AWS_ENDPOINT_URL_DYNAMODB": DYNAMODB}, DYNAMODB),
        ({"AWS_ENDPOINT_URL": GENERAL, "AWS_ENDPOINT_URL_DYNAMODB": ""}, GENERAL),
        ({"AWS_ENDPOINT_URL": GENERAL}, GENERAL),
        ({"AWS_ENDPOINT_URL": ""}, None),
    ],
)
def test_the_dynamodb_endpoint_is_read_as_the_aws_sdks_read_it(
    env: dict[str, str], endpoint: str | None
) -> None:
    assert Settings.from_env(env).dynamodb_endpoint == endpoint


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
        ("HELLO_KEEPALIVE_TIMEOUT", "3601"),
        ("HELLO_ACCESS_LOG", "maybe"),
        ("HELLO_LOG_LEVEL", "verbose"),
    ],
)
def test_bad_values_are_refused_with_the_variable_named(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


NUMBERS = {
    "HELLO_STORE_TIMEOUT": ("store_timeout", STORE_TIMEOUT),
    "HELLO_SHUTDOWN_TIMEOUT": ("shutdown_timeout", SHUTDOWN_TIMEOUT),
    "HELLO_KEEPALIVE_TIMEOUT": ("keepalive_timeout", KEEPALIVE_TIMEOUT),
    "HELLO_MAX_CONNECTIONS": ("max_connections", MAX_CONNECTIONS),
    "HELLO_BACKLOG": ("backlog", BACKLOG),
}


@pytest.mark.parametrize("name", NUMBERS)
def test_every_numeric_setting_takes_both_ends_of_its_range_and_nothing_beyond(name: str) -> None:
    field, allowed = NUMBERS[name]
    whole = isinstance(getattr(Settings(), field), int)
    step = 1 if whole else allowed.low / 2
    for value in (allowed.low, allowed.high):
        raw = str(int(value)) if whole else str(value)
        assert getattr(Settings.from_env({name: raw}), field) == value
    for value in (allowed.low - step, allowed.high + step):
        raw = str(int(value)) if whole else str(value)
        with pytest.raises(SettingsError, match=f"{name}={raw!r} must be"):
            Settings.from_env({name: raw})


@pytest.mark.parametrize("raw", ["1e-300", "nan", "inf", "-inf", "1e309"])
def test_the_store_timeout_is_a_sane_number_of_seconds(raw: str) -> None:
    with pytest.raises(SettingsError, match="HELLO_STORE_TIMEOUT"):
        Settings.from_env({"HELLO_STORE_TIMEOUT": raw})


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
        open_store(Settings(store_url=url))


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


@pytest.mark.parametrize(
    ("argv", "refusal"),
    [
        (["--port", "0"], None),
        (["--port", "65535", "--metrics-port", "0"], None),
        (["--metrics-port", "65535", "--workers", str(MAX_WORKERS)], None),
        (["--port", "-1"], "argument --port: -1 is not between 0 and 65535"),
        (["--port", "65536"], "argument --port: 65536 is not between 0 and 65535"),
        (["--port", "99999"], "argument --port: 99999 is not between 0 and 65535"),
        (["--metrics-port", "65536"], "argument --metrics-port: 65536 is not between"),
        (["--port", "http"], "argument --port: 'http' is not a whole number"),
        (["--workers", "0"], f"argument --workers: 0 is not between 1 and {MAX_WORKERS}"),
        (["--workers", str(MAX_WORKERS + 1)], "argument --workers: "),
    ],
)
def test_the_command_line_refuses_numbers_out_of_range(
    argv: list[str], refusal: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    if refusal is None:
        parser().parse_args(argv)
        return
    with pytest.raises(SystemExit) as exited:
        parser().parse_args(argv)
    assert exited.value.code == 2
    assert refusal in capsys.readouterr().err
