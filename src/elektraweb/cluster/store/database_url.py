"""How a PostgreSQL database is named: told apart from a SQLite file, and shown without its
password. Apart from `postgres`, so that naming one does not load psycopg."""

from __future__ import annotations

import re


def is_url(location: object) -> bool:
    """Whether `location` names a PostgreSQL database (and not a SQLite file)."""
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


def redacted(url: str) -> str:
    """`url` as it may be shown or logged: any password replaced by `***`."""
    url = re.sub(r"(//[^/@:]*:)[^@/]*@", r"\1***@", url)
    return re.sub(r"(?i)(password=)[^&\s]*", r"\1***", url)
