"""Developer scripts run by nox sessions (`nox -s image`, `nox -s diagram`)."""
