"""The benchmark harness of `nox -s bench`: the service as a real process beside a bare baseline."""
