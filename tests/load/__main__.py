"""`python -m tests.load URL [options]`: a bounded headless locust run, then the threshold check.

Exits 0 when every threshold holds, 1 when one is missed, 2 when locust itself failed.
"""

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.support.urls import NOT_A_SERVICE_URL, is_service_url

from .thresholds import Thresholds, judge, read_result, summary_table

LOCUSTFILE = Path(__file__).with_name("locustfile.py")


def base_url(text: str) -> str:
    """The target, checked: locust would take an empty one as its own default."""
    if not is_service_url(text):
        raise argparse.ArgumentTypeError(f"{NOT_A_SERVICE_URL}: {text!r}")
    return text


def duration(text: str) -> str:
    """A run time locust reads, in one unit: 20s, 2m, 1h."""
    if not re.fullmatch(r"[1-9][0-9]*[smh]", text):
        raise argparse.ArgumentTypeError(f"not a duration like 20s, 2m or 1h: {text!r}")
    return text


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="nox -s load --", description=__doc__)
    parser.add_argument(
        "url", nargs="?", type=base_url, default="http://127.0.0.1:8000", help="service base URL"
    )
    parser.add_argument("--error-rate", type=float, default=0.01, help="max failed fraction")
    parser.add_argument("--p99-ms", type=float, default=200.0, help="max p99 latency (ms)")
    parser.add_argument("--min-rps", type=float, default=100.0, help="min throughput (req/s)")
    parser.add_argument("--users", type=int, default=20, help="simulated users (10 req/s each)")
    parser.add_argument("--duration", type=duration, default="20s", help="run time, e.g. 20s or 2m")
    parser.add_argument("--max-requests", type=int, default=100_000, help="request cap")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="check the arguments, print the thresholds, send nothing",
    )
    return parser.parse_args(argv)


def run_locust(args: argparse.Namespace, stats_prefix: Path) -> int:
    command = [
        sys.executable, "-m", "locust",
        "--locustfile", str(LOCUSTFILE),
        "--headless", "--only-summary", "--loglevel", "WARNING",
        "--users", str(args.users), "--spawn-rate", str(args.users),
        "--run-time", args.duration, "--stop-timeout", "5",
        "--max-requests", str(args.max_requests),
        "--host", args.url, "--json-file", str(stats_prefix),
        # Failed requests are judged below against --error-rate, not by locust's exit code.
        "--exit-code-on-error", "0",
    ]  # fmt: skip
    return subprocess.run(command, check=False).returncode


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    thresholds = Thresholds(args.error_rate, args.p99_ms, args.min_rps)
    if args.dry_run:
        print(f"load gate arguments accepted: {thresholds}, {args.users} users, {args.duration}")
        return 0
    with tempfile.TemporaryDirectory(prefix="hello-load-") as workdir:
        stats_prefix = Path(workdir) / "stats"
        if run_locust(args, stats_prefix) != 0:
            print("locust failed; no verdict", file=sys.stderr)
            return 2
        result = read_result(stats_prefix.with_suffix(".json"))
    checks = judge(result, thresholds)
    print(f"\nLoad gate against {args.url} ({args.users} users, {args.duration}):")
    print(summary_table(result, checks))
    passed = all(check.passed for check in checks)
    print("load gate: PASS" if passed else "load gate: FAIL")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
