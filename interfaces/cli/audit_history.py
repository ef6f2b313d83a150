"""Commands of ``rantai audit`` (see interfaces/cli/audit.py)."""

from __future__ import annotations

from interfaces.cli.audit import audit, keys  # noqa: F401
