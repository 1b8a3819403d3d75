"""`nox -s bench`: the service as real processes on loopback, measured beside a bare baseline.

Each round starts every server afresh (timing its start), then the configurations take turns,
so that the load of other work on the machine falls on all of them alike and their ratios stay
meaningful; the rounds' medians are reported. Then the soak: PUTs at full speed on a fresh
SQLite server for minutes, its files watched (tests/bench/soak.py).
Run as `python -m tests.bench.harness --help` from the repository root.
"""

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Final

from hello_birthday.serving import HTTP_PARSER, HttpParser
from tests.bench import dynamodb, profiling, report, soak, wakeups
from tests.bench.load import Measurement, median, run_wrk, wrk_path, wrk_version
from tests.bench.seed import MAX_USERS, seed_users
from tests.bench.servers import (
    Server,
    compile_bytecode,
    listen,
    peak_rss_mib,
    running,
    worker_pids,
)
from tests.support.emulator import Emulator
from tests.support.sqlite_files import MiB

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Config:
    """One table row: which server, how many workers, which requests and how much concurrency."""

    name: str
    description: str
    server: str  # "baseline", "sqlite" or "dynamodb"
    workers: int = 1
    method: str = "GET"
    threads: int = 2
    connections: int = 50
    http: HttpParser = HTTP_PARSER


CONFIGS = [
    Config(report.BASELINE, "bare Starlette, constant JSON", "baseline"),
    Config(report.GET_SQLITE_1W, "GET /hello/{user}, SQLite", "sqlite"),
    Config("get-sqlite-2w", "GET /hello/{user}, SQLite", "sqlite", workers=2),
    Config(report.PUT_SQLITE_1W, "PUT /hello/{user}, SQLite", "sqlite", method="PUT"),
    Config("put-sqlite-2w", "PUT /hello/{user}, SQLite", "sqlite", workers=2, method="PUT"),
    # Not loaded by wrk: timed in turns with the direct calls below (tests/bench/dynamodb.py).
    Config(report.GET_DYNAMODB, "GET /hello/{user}, DynamoDB (moto)", "dynamodb", connections=1),
]
#: With --compare-parsers: the SQLite rows again with uvicorn's other HTTP parser.
OTHER_PARSER: Final[HttpParser] = "h11" if HTTP_PARSER == "httptools" else "httptools"
OTHER_PARSER_CONFIGS = [
    Config(
        f"get-sqlite-1w-{OTHER_PARSER}",
        f"GET /hello/{{user}}, SQLite, {OTHER_PARSER}",
        "sqlite",
        http=OTHER_PARSER,
    ),
    Config(
        f"put-sqlite-1w-{OTHER_PARSER}",
        f"PUT /hello/{{user}}, SQLite, {OTHER_PARSER}",
        "sqlite",
        method="PUT",
        http=OTHER_PARSER,
    ),
]
SOAK = Config(report.SOAK, "PUT /hello/{user}, SQLite, sustained", "sqlite", method="PUT")
#: The SQLite file of a server's own directory.
DATABASE = "bench.db"
#: The direct calls timed in turns with the service's DynamoDB row, each at concurrency 1.
DIRECT_ROWS = {
    report.GET_ITEM_DIRECT: "boto3 GetItem direct to moto",
    report.STORE_DIRECT: "the service's store call, in-process",
}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="nox -s bench --", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--runs", type=int, default=5, help="rounds: fresh servers, one timed run and start per row"
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per timed run")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per server")
    parser.add_argument("--users", type=int, default=1000, help="users seeded and requested")
    parser.add_argument(
        "--soak-seconds", type=int, default=600, help="length of the soak (0: no soak)"
    )
    parser.add_argument(
        "--soak-window",
        type=int,
        default=60,
        help="seconds per wrk run of the soak: the p99 of the first and of the last are shown",
    )
    parser.add_argument(
        "--soak-only", action="store_true", help="run the soak alone, without the other rows"
    )
    parser.add_argument("--output", type=Path, default=Path("bench-results.json"))
    parser.add_argument("--check", action="store_true", help="exit 1 if any target is missed")
    parser.add_argument(
        "--markdown",
        type=Path,
        metavar="PAGE",
        help="write the run's table into PAGE between its results markers (docs/performance.md)",
    )
    parser.add_argument(
        "--compare-parsers",
        action="store_true",
        help=f"add the SQLite GET and PUT rows served with {OTHER_PARSER} instead of {HTTP_PARSER}",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="instead of the benchmark, profile GET and PUT on SQLite with py-spy into DIR",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.users <= MAX_USERS:
        parser.error(f"--users must be between 1 and {MAX_USERS}")
    if args.soak_window < 1 or args.soak_seconds < 0 or args.soak_seconds % args.soak_window:
        parser.error("--soak-seconds must be a multiple of --soak-window (at least 1 s), or 0")
    if args.soak_only and not args.soak_seconds:
        parser.error("--soak-only needs --soak-seconds above 0")
    if args.markdown:
        _check_page(parser, args)
    return args


def _check_page(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse --markdown before the run, not after it: the page's table is of a whole run."""
    if args.soak_only or not args.soak_seconds or args.profile:
        parser.error("--markdown needs a whole run, every row and the soak")
    try:
        report.results_span(args.markdown.read_text())
    except (OSError, ValueError) as error:
        parser.error(f"--markdown {args.markdown}: {error}")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    wrk_path()
    # nox and CI stop a run with SIGTERM: unwind so every server is stopped by its PID.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    compile_bytecode(ROOT / "service" / "src", ROOT / "tests")
    if args.profile:
        profiling.profile_sqlite(args.profile, _service_env({}), args.users, args.duration)
        return 0
    started = time.monotonic()
    load_before = os.getloadavg()
    rows = [] if args.soak_only else benchmark(args)
    soaked = _soak(args) if args.soak_seconds else None
    load_after = os.getloadavg()
    found = [
        *(report.targets(rows) if rows else []),
        *(report.soak_targets(soaked) if soaked else []),
    ]
    machine = _machine(load_before, load_after)
    if rows:
        print(report.table(rows, found))
    if soaked:
        print(f"\n{report.soak_table(soaked, found)}")
    settings = {key: str(value) for key, value in vars(args).items()}
    results = {
        "command": ["nox", "-s", "bench", "--", *(argv or sys.argv[1:])],
        "machine": machine,
        "settings": settings,
        "seconds": round(time.monotonic() - started, 1),
        **report.as_json(rows, soaked, found),
    }
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nload average (1/5/15 min) before {_loads(load_before)}, after {_loads(load_after)}")
    print(f"one thread hop (two idle wake-ups) here: {machine['thread_hop_us']} us")
    print(f"written: {args.output} ({results['seconds']} s)")
    if args.markdown and soaked is not None:
        section = report.markdown(
            rows, soaked, _soak_row(soaked), found, settings=settings, machine=machine
        )
        report.write_results(args.markdown, section)
        print(f"written: the results section of {args.markdown}")
    return 1 if args.check and not all(target.passed for target in found) else 0


@dataclass(frozen=True)
class Sample:
    """One configuration in one round: its timed run, its start and its peak memory."""

    measured: Measurement
    ready_seconds: float
    peak_rss_mib_per_worker: float


def benchmark(args: argparse.Namespace) -> list[report.Row]:
    """Rounds of fresh servers, every configuration timed once per round, back to back."""
    configs = _configs(args)
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
        emulator = stack.enter_context(dynamodb.emulator(workdir))
        direct = emulator.client()
        rounds = [
            _round(number, args, workdir, emulator, direct) for number in range(1, args.runs + 1)
        ]
    rows = [_row(config, [samples[config.name] for samples, _ in rounds]) for config in configs]
    for name, description in DIRECT_ROWS.items():
        runs = [beside[name] for _, beside in rounds]
        rows.append(report.Row(name, description, 1, 1, median(runs), runs))
    return rows


def _configs(args: argparse.Namespace) -> list[Config]:
    return CONFIGS + (OTHER_PARSER_CONFIGS if args.compare_parsers else [])


def _round(
    number: int,
    args: argparse.Namespace,
    workdir: Path,
    emulator: Emulator,
    direct: "DynamoDBClient",
) -> tuple[dict[str, Sample], dict[str, Measurement]]:
    """Start every server afresh, seed and warm it, then time each configuration in turn.

    The DynamoDB row is timed last, in turns with the direct calls; returns each
    configuration's sample and the direct calls' measurements.

    Fresh processes each round: on this VM one process of a program can run a tenth slower
    than the next for as long as it lives, so rounds on the same servers would repeat one draw
    instead of averaging several.
    """
    configs = _configs(args)
    loaded_by_wrk = [config for config in configs if config.server != "dynamodb"]
    with ExitStack() as stack:
        servers = {
            config.name: stack.enter_context(_start(config, workdir, emulator))
            for config in configs
        }
        for config in configs:
            if config.server != "baseline":
                _seed(servers[config.name], args.users)
        port = servers[report.GET_DYNAMODB].port
        store_env = _service_env(dynamodb.service_env(emulator))
        for config in loaded_by_wrk:
            _load(config, servers[config.name], args.users, args.warmup)
        dynamodb.time_in_turns(direct, port, store_env, args.users, args.warmup)

        measured: dict[str, Measurement] = {}
        for config in loaded_by_wrk:
            measured[config.name] = _load(config, servers[config.name], args.users, args.duration)
            _progress(f"run {number}/{args.runs} {config.name}: {measured[config.name]}")
        beside = dynamodb.time_in_turns(direct, port, store_env, args.users, args.duration)
        for name, measurement in beside.items():
            _progress(f"run {number}/{args.runs} {name}: {measurement}")
        measured[report.GET_DYNAMODB] = beside.pop(report.GET_DYNAMODB)
        samples = {
            name: Sample(
                measured[name],
                server.ready_seconds,
                max(peak_rss_mib(pid) for pid in worker_pids(server)),
            )
            for name, server in servers.items()
        }
    return samples, beside


def _soak(args: argparse.Namespace) -> report.Soak:
    """PUTs at full speed for --soak-seconds on a fresh server, in windows of --soak-window."""
    with (
        tempfile.TemporaryDirectory(prefix="bench-soak-") as workdir,
        _start(SOAK, Path(workdir), emulator=None) as server,
    ):
        _seed(server, args.users)
        with soak.watched(server.child.log_path.with_name(DATABASE)) as peaks:
            windows = []
            for number in range(1, args.soak_seconds // args.soak_window + 1):
                windows.append(_load(SOAK, server, args.users, args.soak_window))
                _progress(f"soak window {number}: {windows[-1]}, {_sizes(peaks)} so far")
    return report.Soak(args.soak_window, windows, peaks.wal, peaks.footprint, samples=peaks.samples)


def _soak_row(soaked: report.Soak) -> report.Row:
    """The soak as a row of the results table, its figures the medians over its windows."""
    windows = soaked.windows
    return report.Row(
        SOAK.name, SOAK.description, SOAK.workers, SOAK.connections, median(windows), windows
    )


def _sizes(peaks: soak.Peaks) -> str:
    return f"peak log {peaks.wal / MiB:.1f} MiB, peak footprint {peaks.footprint / MiB:.1f} MiB"


def _seed(server: Server, users: int) -> None:
    try:
        seed_users(server.port, users)
    except OSError as error:
        # A server that went away after its first /readyz: say which, and what it last wrote.
        state = "exited" if server.child.exited() else "still running"
        raise RuntimeError(
            f"seeding {server.name} on port {server.port} failed ({error}); the server is "
            f"{state}; its log ends:\n{server.child.log_tail()}"
        ) from error


@contextmanager
def _start(config: Config, workdir: Path, emulator: Emulator | None) -> Iterator[Server]:
    """Start the configuration's server in a fresh directory of its own (a new SQLite file);
    the emulator is the DynamoDB configurations' only."""
    directory = Path(tempfile.mkdtemp(prefix=f"{config.name}-", dir=workdir))
    if config.server == "baseline":
        env = _service_env({})
        # Served as the service is, through hello_birthday.serving, with the same options.
        program = [sys.executable, "-m", "tests.bench.serve", "baseline", "--http", config.http]
    else:
        if config.server == "dynamodb":
            assert emulator is not None
            env = _service_env(dynamodb.service_env(emulator))
        else:
            env = _service_env({"HELLO_STORE": f"sqlite:///{directory / DATABASE}"})
        program = (
            [_console_script()]
            if config.http == HTTP_PARSER
            else [sys.executable, "-m", "tests.bench.serve", "service", "--http", config.http]
        )

    def argv(port: int) -> list[str]:
        return [*program, *listen(port, config.workers)]

    with running(config.name, argv, env, directory / "server.log") as server:
        yield server


def _console_script() -> str:
    path = shutil.which("hello-birthday")
    if path is None:
        raise SystemExit("the hello-birthday console script is missing: pip install -e service")
    return path


def _service_env(overrides: Mapping[str, str]) -> dict[str, str]:
    """This environment without HELLO_* or AWS_* variables: the production defaults apply."""
    inherited = {
        key: value for key, value in os.environ.items() if not key.startswith(("HELLO_", "AWS_"))
    }
    return inherited | dict(overrides)


def _load(config: Config, server: Server, users: int, seconds: int) -> Measurement:
    return run_wrk(
        server.url,
        config.method,
        users,
        threads=config.threads,
        connections=config.connections,
        seconds=seconds,
    )


def _row(config: Config, samples: list[Sample]) -> report.Row:
    """A configuration's row from its samples, one per round."""
    runs = [sample.measured for sample in samples]
    ready_runs = [sample.ready_seconds for sample in samples]
    return report.Row(
        config.name,
        config.description,
        config.workers,
        config.connections,
        median(runs),
        runs,
        ready_seconds=statistics.median(ready_runs),
        ready_runs=ready_runs,
        peak_rss_mib_per_worker=max(sample.peak_rss_mib_per_worker for sample in samples),
        uses_sqlite=config.server == "sqlite",
    )


def _machine(load_before: Sequence[float], load_after: Sequence[float]) -> dict[str, object]:
    return {
        "cpus": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": load_after,
        "python": platform.python_version(),
        "wrk": wrk_version(),
        "thread_hop_us": round(wakeups.thread_hop_us()),
    }


def _loads(averages: Sequence[float]) -> str:
    return "/".join(f"{average:.1f}" for average in averages)


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _exit_on_signal(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    sys.exit(main())
