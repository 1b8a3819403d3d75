"""The CrossGuard pack every `up` enforces, and the per-stack config that relaxes it."""

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PolicyPack:
    path: Path
    config: Path | None

    @classmethod
    def for_stack(cls, pack_dir: Path, stack: str) -> "PolicyPack":
        """The pack in pack_dir, with policy-config.<stack>.json when that file exists."""
        config = pack_dir / f"policy-config.{stack}.json"
        return cls(pack_dir, config if config.is_file() else None)

    def allows_plain_http(self) -> bool:
        """True when the config lets the stack's listener serve plain HTTP (dev: no domain)."""
        if self.config is None:
            return False
        settings = json.loads(self.config.read_text()).get("alb-listener-https", {})
        return settings.get("allowPlainHttp") is True
