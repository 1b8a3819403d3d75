"""The traffic of the load gate: each simulated user stores a birthday, then mostly reads it.

Usernames are "Loadtest" plus random letters (usernames are letters only), so data written by a
load test against a shared environment is easy to find and delete.
"""

import random
import string
from datetime import date, timedelta
from typing import Any

import gevent
from locust import FastHttpUser, constant_throughput, events, task
from locust.argument_parser import LocustArgumentParser
from locust.env import Environment

USERNAME_PREFIX = "Loadtest"
PER_USER_RPS = 10


def add_arguments(parser: LocustArgumentParser) -> None:
    """Let the gate bound the run by request count as well as by time."""
    parser.add_argument(
        "--max-requests",
        type=int,
        default=0,
        help="Stop after this many requests (0: no limit beyond --run-time).",
    )


def stop_at_request_limit(environment: Environment, **_: Any) -> None:
    """Quit the whole run once --max-requests requests have been sent."""
    limit = environment.parsed_options.max_requests if environment.parsed_options else 0
    if not limit:
        return
    quitting = False

    def on_request(**_: Any) -> None:
        nonlocal quitting
        runner = environment.runner
        if not quitting and runner is not None and runner.stats.total.num_requests >= limit:
            quitting = True
            # Not from this user's own greenlet: quit() kills every user greenlet.
            gevent.spawn(runner.quit)

    environment.events.request.add_listener(on_request)


events.init_command_line_parser.add_listener(add_arguments)
events.init.add_listener(stop_at_request_limit)


def load_test_username() -> str:
    """A fresh username that only a load test would pick."""
    return USERNAME_PREFIX + "".join(random.choices(string.ascii_letters, k=16))


def random_birthday() -> str:
    """A date of birth between about 1 and 90 years ago, as YYYY-MM-DD."""
    return (date.today() - timedelta(days=random.randint(366, 90 * 365))).isoformat()


class LoadUser(FastHttpUser):
    """One person: saves a date of birth once, then asks for the greeting nine times in ten."""

    wait_time = constant_throughput(PER_USER_RPS)
    username = ""

    def on_start(self) -> None:
        self.username = load_test_username()
        self.save_birthday()

    @task(1)
    def save_birthday(self) -> None:
        self.client.put(
            f"/hello/{self.username}",
            json={"dateOfBirth": random_birthday()},
            name="PUT /hello/[username]",
        )

    @task(9)
    def greet(self) -> None:
        self.client.get(f"/hello/{self.username}", name="GET /hello/[username]")
