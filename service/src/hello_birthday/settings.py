"""Environment variables -> one typed, validated settings object."""

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hello_birthday.store import aws_region, parse_store_url

DEFAULT_STORE = "sqlite:///hello-birthday.db"
LOG_LEVELS: Final = ("critical", "error", "warning", "info", "debug")
_Seconds = TypeVar("_Seconds", int, float)


class SettingsError(ValueError):
    """An environment variable has a value the service cannot run with."""


@dataclass(frozen=True)
class Settings:
    store_url: str = DEFAULT_STORE
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    store_timeout: float = 1.0
    # Whole seconds: uvicorn takes its server timeouts as integers.
    shutdown_timeout: int = 20
    keepalive_timeout: int = 75
    log_level: str = "info"
    access_log: bool = True

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "Settings":
        """Read HELLO_* variables; a bad value stops the process at start with a clear message."""
        return cls(
            store_url=_store_url(env),
            timezone=_zone(env.get("HELLO_TIMEZONE", "UTC")),
            store_timeout=_seconds(env, "HELLO_STORE_TIMEOUT", 1.0),
            shutdown_timeout=_seconds(env, "HELLO_SHUTDOWN_TIMEOUT", 20),
            keepalive_timeout=_seconds(env, "HELLO_KEEPALIVE_TIMEOUT", 75),
            log_level=_log_level(env.get("HELLO_LOG_LEVEL", "info")),
            access_log=_flag(env, "HELLO_ACCESS_LOG", default=True),
        )


def _store_url(env: Mapping[str, str]) -> str:
    url = env.get("HELLO_STORE", DEFAULT_STORE)
    try:
        kind, _ = parse_store_url(url)
    except ValueError as error:
        raise SettingsError(str(error)) from None
    if kind == "dynamodb" and aws_region(env) is None:
        raise SettingsError(f"HELLO_STORE={url!r} needs AWS_REGION (or AWS_DEFAULT_REGION)")
    return url


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"HELLO_TIMEZONE={name!r} is not an IANA time zone") from None


def _seconds(env: Mapping[str, str], name: str, default: _Seconds) -> _Seconds:
    """Seconds between 0 and an hour; whole seconds when the default is an int."""
    raw = env.get(name)
    if raw is None:
        return default
    kind = type(default)
    try:
        value = kind(raw)
    except ValueError:
        unit = "a whole number of seconds" if kind is int else "a number of seconds"
        raise SettingsError(f"{name}={raw!r} is not {unit}") from None
    if not 0 < value < 3600:
        raise SettingsError(f"{name}={raw!r} must be between 0 and 3600 seconds")
    return value


def _log_level(raw: str) -> str:
    if raw.lower() not in LOG_LEVELS:
        raise SettingsError(f"HELLO_LOG_LEVEL={raw!r} must be one of {', '.join(LOG_LEVELS)}")
    return raw.lower()


def _flag(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name}={raw!r} must be true or false")
