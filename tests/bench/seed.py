"""The users a benchmark spreads its requests over, and seeding them through the HTTP API."""

import http.client
import json
import string

#: Letters after the "Bench" prefix; requests.lua builds the same names.
NAME_LETTERS = 3
MAX_USERS = len(string.ascii_lowercase) ** NAME_LETTERS
DATE_OF_BIRTH = "1990-05-17"


def username(index: int) -> str:
    """'Bench' and the index as base-26 letters: usernames may hold letters only."""
    letters = []
    for _ in range(NAME_LETTERS):
        index, digit = divmod(index, len(string.ascii_lowercase))
        letters.append(string.ascii_lowercase[digit])
    return "Bench" + "".join(reversed(letters))


def seed_users(port: int, users: int) -> None:
    """PUT a date of birth for every benchmark user over one keep-alive connection."""
    body = json.dumps({"dateOfBirth": DATE_OF_BIRTH})
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        for index in range(users):
            path = f"/hello/{username(index)}"
            connection.request("PUT", path, body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            if response.status != 204:
                raise RuntimeError(f"seeding PUT {path} answered {response.status}")
    finally:
        connection.close()
