"""The ports the service listens on, shared with the platform that routes to them."""

from typing import Final

#: The API: the only port the load balancer forwards to.
API_PORT: Final = 8000
#: Prometheus metrics, on the loopback interface only: the task's collector scrapes them there,
#: and no load balancer rule can reach them.
METRICS_PORT: Final = 9464
