"""Image references the deploy program accepts: a repository and a sha256 digest, nothing else.

A tag can be moved to other bytes; a digest names exactly the manifest that was built and scanned.
"""

import re
from dataclasses import dataclass

# host[:port]/path, lower case as registries require, then @sha256:<64 hex>. No tag: with a
# digest present, a tag would be ignored by the runtime and only mislead a reader.
_IMAGE = re.compile(
    r"(?P<repository>[a-z0-9.-]+(?::[0-9]+)?(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)+)"
    r"@(?P<digest>sha256:[0-9a-f]{64})"
)


class ImageReferenceError(ValueError):
    """The reference is not REPOSITORY@sha256:<64 hex>."""


@dataclass(frozen=True)
class ImageRef:
    repository: str
    digest: str

    def __str__(self) -> str:
        return f"{self.repository}@{self.digest}"

    @property
    def registry_id(self) -> str:
        """The account of an ECR registry host (<account>.dkr.ecr.<region>.amazonaws.com)."""
        return self.repository.split(".", 1)[0]

    @property
    def repository_name(self) -> str:
        """The repository's name inside its registry (everything after the host)."""
        return self.repository.split("/", 1)[1]


def parse_image(text: str) -> ImageRef:
    """The reference, or ImageReferenceError saying why it is not pinned by digest."""
    match = _IMAGE.fullmatch(text)
    if match is None:
        raise ImageReferenceError(
            f"image {text!r} is not pinned by digest: expected REPOSITORY@sha256:<64 hex digits>"
        )
    return ImageRef(match["repository"], match["digest"])
