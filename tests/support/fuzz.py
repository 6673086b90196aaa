"""What the fuzz tests share: how many inputs a run sends, and input strategies.

A plain run (`make test`) sends a short pass; set ``ELEKTRAWEB_FUZZ_EXAMPLES`` (e.g. 100000)
to send that many inputs per fuzz test instead (docs/security.md, item 8).
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

FUZZ_EXAMPLES_ENV = "ELEKTRAWEB_FUZZ_EXAMPLES"
T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


def fuzz_settings(short_pass: int) -> Callable[[F], F]:
    """Hypothesis settings for a fuzz test: `short_pass` inputs, or the number the
    environment asks for; a longer pass has no pytest timeout (it takes as long as it takes)."""
    examples = int(os.environ.get(FUZZ_EXAMPLES_ENV) or short_pass)
    configured = settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )

    def apply(test: F) -> F:
        test = configured(test)
        return pytest.mark.timeout(0)(test) if examples > short_pass else test

    return apply


class LoopThread:
    """An event loop in a thread of its own, for hypothesis' synchronous test functions to
    drive asyncio clients (and daemons started with asyncio) on."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()


KEY_NAMES = st.sampled_from(
    ["user:/fuzz/a", "user:/fuzz", "system:/fuzz/b", "/fuzz", "user:/", "spec:/fuzz/x",
     "bad name", "user:/fuzz/%", "user:/fuzz/#_10", "proc:/p", "meta:/m", "", "\ud800"]
)  # fmt: skip
leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.text(st.characters(categories=["Cs"]), min_size=1, max_size=3)  # lone surrogates
    | KEY_NAMES
)
MEMBERS = st.sampled_from(
    ["keys", "name", "value", "meta", "key", "password", "role", "user", "instance",
     "endpoint", "public_key", "description", "x"]
)  # fmt: skip
json_values = st.recursive(
    leaves,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(MEMBERS, children, max_size=4)
    ),
    max_leaves=12,
)


def _nested(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


json_texts = st.one_of(
    json_values.map(lambda value: json.dumps(value).encode()),
    st.integers(min_value=60, max_value=60_000).map(_nested),
    st.sampled_from([b"NaN", b"[Infinity]", b'{"a":-Infinity}', b"", b" ", b"{", b'"\\ud800"']),
    st.binary(max_size=40),
    json_values.map(lambda value: json.dumps(value).encode("utf-16")),
)
"""Bytes meant to be JSON: valid, too deep, not JSON, not UTF-8."""
