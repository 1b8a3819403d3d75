"""Environment variables -> one typed, validated settings object."""

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_STORE = "sqlite:///hello-birthday.db"
DEFAULT_TIMEZONE = "UTC"
StoreKind = Literal["sqlite", "dynamodb"]
#: DynamoDB's own rule for table names: a bad one is refused at start, not on every call.
_TABLE_NAME: Final = re.compile(r"[A-Za-z0-9_.-]{3,255}")
LOG_LEVELS: Final = ("critical", "error", "warning", "info", "debug")
_Number = TypeVar("_Number", int, float)


@dataclass(frozen=True)
class Range:
    """The values a numeric setting may take, both ends included, and what they count."""

    low: float
    high: float
    unit: str


#: Every numeric setting's sane values, enforced at start and listed in the README.
#: One DynamoDB attempt must outlast a round trip; a whole call must end well inside the load
#: balancer's 60 s idle timeout.
STORE_TIMEOUT: Final = Range(0.01, 30, "seconds")
#: A whole DynamoDB call, its one retry included, may take this many times the attempt timeout:
#: a retry after a quick failure (throttling, a 500) has the time to succeed, and one after a
#: timed-out attempt cannot double the wait.
DYNAMODB_CALL_ATTEMPTS: Final = 1.5
#: ECS waits at most 120 s (its stopTimeout's maximum) between SIGTERM and SIGKILL.
SHUTDOWN_TIMEOUT: Final = Range(1, 120, "seconds")
KEEPALIVE_TIMEOUT: Final = Range(1, 3600, "seconds")
#: Per worker; below the 65,536 open files of the ECS task, with room for everything else.
MAX_CONNECTIONS: Final = Range(1, 60_000, "connections")
#: With the files a worker needs besides (serving.OTHER_OPEN_FILES), 1,024: the smallest hard
#: limit on open files in common use (buildah's containers have it), so the default starts
#: anywhere. ECS tasks raise both.
DEFAULT_MAX_CONNECTIONS: Final = 896
#: The kernel caps it at net.core.somaxconn (4,096 on current Linux).
BACKLOG: Final = Range(1, 65_535, "connections")


class SettingsError(ValueError):
    """An environment variable has a value the service cannot run with."""


@dataclass(frozen=True)
class Settings:
    store_url: str = DEFAULT_STORE
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo(DEFAULT_TIMEZONE))
    #: HELLO_STORE_TIMEOUT: the one number behind each of the store's time bounds below.
    store_timeout: float = 1.0
    # Whole seconds: uvicorn takes its server timeouts as integers.
    shutdown_timeout: int = 20
    keepalive_timeout: int = 75
    log_level: str = "info"
    access_log: bool = True
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    backlog: int = 2048
    #: The DynamoDB store's region: AWS_REGION, else AWS_DEFAULT_REGION (ECS sets both).
    aws_region: str | None = None
    #: Where the DynamoDB store sends its calls instead of AWS (LocalStack, moto): the AWS SDKs'
    #: AWS_ENDPOINT_URL_DYNAMODB, else AWS_ENDPOINT_URL.
    dynamodb_endpoint: str | None = None

    @property
    def sqlite_lock_wait(self) -> float:
        """Seconds a SQLite call may wait for a database locked by another process, or a write
        for a checkpoint to make room in a full log, counted from the call's arrival."""
        return self.store_timeout

    @property
    def dynamodb_attempt_timeout(self) -> float:
        """Seconds one DynamoDB attempt may take: connecting, sending, reading the answer."""
        return self.store_timeout

    @property
    def dynamodb_call_deadline(self) -> float:
        """Seconds a whole DynamoDB call may take, its one retry included."""
        return self.store_timeout * DYNAMODB_CALL_ATTEMPTS

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "Settings":
        """Read HELLO_* variables; a bad value stops the process at start with a clear message.
        An unset variable takes the field's default above."""
        region = _first(env, "AWS_REGION", "AWS_DEFAULT_REGION")
        return cls(
            store_url=_store_url(env, region),
            timezone=_zone(env.get("HELLO_TIMEZONE", DEFAULT_TIMEZONE)),
            store_timeout=_number(env, "HELLO_STORE_TIMEOUT", cls.store_timeout, STORE_TIMEOUT),
            shutdown_timeout=_number(
                env, "HELLO_SHUTDOWN_TIMEOUT", cls.shutdown_timeout, SHUTDOWN_TIMEOUT
            ),
            keepalive_timeout=_number(
                env, "HELLO_KEEPALIVE_TIMEOUT", cls.keepalive_timeout, KEEPALIVE_TIMEOUT
            ),
            log_level=_log_level(env.get("HELLO_LOG_LEVEL", cls.log_level)),
            access_log=_flag(env, "HELLO_ACCESS_LOG", default=cls.access_log),
            max_connections=_number(
                env, "HELLO_MAX_CONNECTIONS", cls.max_connections, MAX_CONNECTIONS
            ),
            backlog=_number(env, "HELLO_BACKLOG", cls.backlog, BACKLOG),
            aws_region=region,
            dynamodb_endpoint=_first(env, "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL"),
        )


def parse_store_url(url: str) -> tuple[StoreKind, str]:
    """Split ``sqlite:///path`` or ``dynamodb://TABLE`` into the kind and the path or table."""
    scheme, separator, location = url.partition("://")
    if scheme == "sqlite" and separator and location.startswith("/") and len(location) > 1:
        return "sqlite", location[1:]
    if scheme == "dynamodb" and separator and _TABLE_NAME.fullmatch(location):
        return "dynamodb", location
    raise ValueError(
        f"HELLO_STORE={url!r} is not sqlite:///path/to/file.db or dynamodb://TABLE_NAME "
        "(3 to 255 of A-Z, a-z, 0-9, _, . and -)"
    )


def _store_url(env: Mapping[str, str], aws_region: str | None) -> str:
    url = env.get("HELLO_STORE", DEFAULT_STORE)
    try:
        kind, _ = parse_store_url(url)
    except ValueError as error:
        raise SettingsError(str(error)) from None
    if kind == "dynamodb" and aws_region is None:
        raise SettingsError(f"HELLO_STORE={url!r} needs AWS_REGION (or AWS_DEFAULT_REGION)")
    return url


def _first(env: Mapping[str, str], *names: str) -> str | None:
    """The value of the first of these variables that is set and not empty, as the AWS SDKs
    read their own."""
    return next((env[name] for name in names if env.get(name)), None)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"HELLO_TIMEZONE={name!r} is not an IANA time zone") from None


def _number(env: Mapping[str, str], name: str, default: _Number, allowed: Range) -> _Number:
    """A number in its range; a whole number when the default is an int."""
    raw = env.get(name)
    if raw is None:
        return default
    kind = type(default)
    try:
        value = kind(raw)
    except ValueError:
        kind_of_number = "a whole number" if kind is int else "a number"
        raise SettingsError(f"{name}={raw!r} is not {kind_of_number} of {allowed.unit}") from None
    # Written so that NaN, which compares false with everything, is refused too.
    if not allowed.low <= value <= allowed.high:
        raise SettingsError(
            f"{name}={raw!r} must be {allowed.low:g} to {allowed.high:g} {allowed.unit}"
        )
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
