"""Where the deploy program finds what it runs, from its own place in the repository."""

from pathlib import Path

# The repository root: the Pulumi project (Pulumi.yaml), and the gates' working directory.
ROOT = Path(__file__).resolve().parents[2]
# The CrossGuard pack every `up` enforces, with its per-stack configs.
POLICY_PACK = ROOT / "platform" / "policy"
