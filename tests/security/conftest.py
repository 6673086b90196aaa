"""Fixtures of the attack tests: real daemons (stack.py)."""

from __future__ import annotations

from .stack import stack

__all__ = ["stack"]
