"""The deployment test: ``python -m tests.e2e`` (run by scripts/e2e.sh; see docs/deployment.md)."""

from __future__ import annotations
