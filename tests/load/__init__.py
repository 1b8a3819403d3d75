"""Post-deploy load gate: a bounded locust run judged against thresholds (`nox -s load`)."""
