"""The service URL a suite or a tool is pointed at: one rule for what counts as one."""

from typing import Final
from urllib.parse import urlsplit

#: What a refused target is not, in the words both the smoke suite and the load gate use.
NOT_A_SERVICE_URL: Final = "not an http:// or https:// URL"


def is_service_url(text: str) -> bool:
    """An http(s) URL with a host and no surrounding space: an empty or malformed target would
    test nothing (or a default) and pass."""
    try:
        parts = urlsplit(text)
    except ValueError:  # an unclosed IPv6 bracket, say
        return False
    return parts.scheme in {"http", "https"} and bool(parts.hostname) and text == text.strip()
