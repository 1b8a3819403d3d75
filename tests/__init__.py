"""The repository's test suites, and `tests.support`: the helpers they and the tools share."""
