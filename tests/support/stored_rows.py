"""Rows written behind the service's back, as a tool or a person would, without its checks."""

import sqlite3
from contextlib import closing

from hello_birthday.settings import parse_store_url
from hello_birthday.store.schema import DATE_OF_BIRTH, PARTITION_KEY

from .emulator import Emulator


def write_row(
    store_url: str, username: str, date_of_birth: str | None, *, emulator: Emulator
) -> None:
    """Store date_of_birth for username in the store at store_url (HELLO_STORE's form): in the
    SQLite file, or in the DynamoDB table on emulator. None leaves the date out of the item,
    which only DynamoDB allows."""
    kind, location = parse_store_url(store_url)
    if kind == "sqlite":
        with closing(sqlite3.connect(location)) as database, database:
            database.execute("INSERT INTO birthdays VALUES (?, ?)", (username, date_of_birth))
        return
    item = {PARTITION_KEY: {"S": username}}
    if date_of_birth is not None:
        item[DATE_OF_BIRTH] = {"S": date_of_birth}
    emulator.client().put_item(TableName=location, Item=item)
