"""Where a request's time goes: the service under py-spy while wrk loads it, hotspots summed up."""

import shutil
import tempfile
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import psutil

from tests.bench.load import run_wrk
from tests.bench.seed import seed_users
from tests.bench.servers import listen, running

SAMPLES_PER_SECOND = 250
TOP = 25
#: Frames of Python's import machinery: samples under them are the start, not a request.
IMPORT_FRAME = "_find_and_load ("
SERVICE_FRAME = "(hello_birthday/"


def profile_sqlite(out_dir: Path, env: Mapping[str, str], users: int, seconds: int) -> None:
    """Profile GET and PUT on the SQLite store, one worker; write raw stacks and a summary."""
    py_spy = shutil.which("py-spy")
    service = shutil.which("hello-birthday")
    if py_spy is None or service is None:
        raise SystemExit("py-spy and hello-birthday must be installed: nox -s bench installs both")
    out_dir.mkdir(parents=True, exist_ok=True)
    for method in ("GET", "PUT"):
        stacks = out_dir / f"{method.lower()}-stacks.txt"
        with tempfile.TemporaryDirectory(prefix="bench-profile-") as workdir:

            def argv(port: int, stacks: Path = stacks) -> list[str]:
                return [
                    *(py_spy, "record", "--format", "raw", "--function"),
                    *("--rate", str(SAMPLES_PER_SECOND), "--output", str(stacks), "--"),
                    service,
                    *listen(port),
                ]

            store = {"HELLO_STORE": f"sqlite:///{workdir}/profile.db"}
            log = Path(workdir) / "service.log"
            with running(f"profile-{method}", argv, {**env, **store}, log) as server:
                seed_users(server.port, users)
                print(
                    run_wrk(server.url, method, users, threads=2, connections=50, seconds=seconds)
                )
                # py-spy writes its file when the profiled process ends, not on a signal.
                for profiled in psutil.Process(server.child.pid).children():
                    profiled.terminate()
                server.child.wait(timeout=60)
        summary = hotspots(stacks)
        (out_dir / f"{method.lower()}-hotspots.txt").write_text(summary)
        print(f"== {method} /hello/{{user}}, SQLite, 1 worker ==\n{summary}")


def hotspots(stacks: Path) -> str:
    """The functions with the most samples of their own, and the service's with their callees."""
    own: Counter[str] = Counter()
    beneath: Counter[str] = Counter()
    for line in stacks.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if IMPORT_FRAME in stack:
            continue
        frames = stack.split(";")
        own[frames[-1]] += int(count)
        for frame in set(frames):
            beneath[frame] += int(count)
    total = sum(own.values())
    lines = [f"{total} samples (the start's imports left out)", "", "own time:"]
    lines += [f"{100 * n / total:5.1f}%  {frame}" for frame, n in own.most_common(TOP)]
    lines += ["", "the service's own functions, including callees:"]
    service = [(frame, n) for frame, n in beneath.most_common() if SERVICE_FRAME in frame]
    lines += [f"{100 * n / total:5.1f}%  {frame}" for frame, n in service[:TOP]]
    return "\n".join(lines) + "\n"
