"""The baseline, served by the service's own command line: only the application differs.

Run as `python -m tests.bench.baseline_server --port N [--workers W]` from the repository root.
"""

from hello_birthday.cli import main

if __name__ == "__main__":
    main(app="tests.bench.baseline_app:app", factory=False)
