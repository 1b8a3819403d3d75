"""The load gate's command line: a target given but empty or malformed is refused, never
replaced by a default; --dry-run checks the arguments and sends nothing."""

import pytest

from .__main__ import main, parse_args


@pytest.mark.parametrize(
    "url",
    [
        *("", " ", "127.0.0.1:8000", "http://", "ftp://host", "https:///path", " http://host"),
        "http://[::1",  # urlsplit raises on it
    ],
)
def test_an_empty_or_malformed_url_is_a_usage_error(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as usage:
        parse_args([url, "--users", "1"])

    assert usage.value.code == 2
    assert "not an http:// or https:// URL" in capsys.readouterr().err


def test_without_a_url_the_local_default_is_the_target() -> None:
    assert parse_args(["--users", "1"]).url == "http://127.0.0.1:8000"


@pytest.mark.parametrize("url", ["http://127.0.0.1:9000", "https://hello.example.org/base"])
def test_an_http_or_https_url_is_the_target(url: str) -> None:
    assert parse_args([url]).url == url


@pytest.mark.parametrize("duration", ["60", "1m30s", "0s", "-5s", "2d"])
def test_a_duration_locust_would_misread_is_a_usage_error(
    duration: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # `--duration=VALUE`: as a separate word, "-5s" would be read as an option and never reach
    # the duration check.
    with pytest.raises(SystemExit) as usage:
        parse_args([f"--duration={duration}"])

    assert usage.value.code == 2
    assert "not a duration" in capsys.readouterr().err


def test_a_dry_run_accepts_the_arguments_and_sends_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The URL is on a port nothing listens on: a real run would fail there.
    assert main(["http://127.0.0.1:9", "--users", "20", "--duration", "60s", "--dry-run"]) == 0
    assert "load gate arguments accepted" in capsys.readouterr().out
