"""Helpers shared by test modules of every area: `from support.processes import Elektrad`."""
