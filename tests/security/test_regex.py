"""Issue 8 item 2: a regex must not stall a daemon. Patterns that take a backtracking engine
exponential time are searched by RE2 in linear time, on both daemons, and the daemons keep
answering everything else meanwhile."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from security.conftest import Site

# With Python's re, each of these took seconds to hours against the values below.
# Only the first matches ("victim" has no 'b', the value ends in '!').
PATHOLOGICAL = ["((.*)*)*!", "(a+)+$", "(a|aa)*b", "^(([a-z])+.)+[A-Z]([a-z])+$"]
# A budget that tells a stall from an answer: far below the hours a backtracking engine needs.
PATIENCE = 30


def find_path(kind: str, target: int, pattern: str) -> str:
    return f"/api/{kind}/{target}/kdbFind/{quote(pattern, safe='')}?values=true"


async def test_pathological_patterns_answer_and_the_daemons_keep_serving(site: Site) -> None:
    key = quote("user:/app/victim", safe="")
    value = "a" * 40 + "!"
    status, _ = await site.admin("PUT", f"/api/clusters/{site.cluster}/kdb/{key}", value)
    assert status == 200
    for pattern in PATHOLOGICAL:
        for kind, target in (("clusters", site.cluster), ("instances", site.instance)):
            async with asyncio.timeout(PATIENCE):
                (found_status, found), (ping_status, _) = await asyncio.gather(
                    site.viewer("GET", find_path(kind, target, pattern)),
                    site.viewer("GET", f"/api/instances/{site.instance}/kdb/{key}"),
                )
            assert (ping_status, found_status) == (200, 200), found
            assert found["budget_exceeded"] is False
            matched = pattern == PATHOLOGICAL[0]
            assert found["keys"] == (["user:/app/victim"] if matched else [])
    # elektrad was never too busy to answer: clusterd still sees it online.
    status, instance = await site.viewer("GET", f"/api/instances/{site.instance}")
    assert status == 200 and instance["status"]["online"] is True


async def test_posix_classes_work_and_back_references_are_refused_by_name(site: Site) -> None:
    key = quote("user:/app/port", safe="")
    assert (await site.admin("PUT", f"/api/clusters/{site.cluster}/kdb/{key}", "8080"))[0] == 200
    for kind, target in (("clusters", site.cluster), ("instances", site.instance)):
        status, found = await site.viewer("GET", find_path(kind, target, "^[[:digit:]]+$"))
        assert (status, found["keys"]) == (200, ["user:/app/port"])
        status, refused = await site.viewer("GET", find_path(kind, target, "(8)\\1"))
        assert status == 400
        assert "back-reference" in refused["error"]["message"]
    assert "FutureWarning" not in site.clusterd.log()


async def test_a_validation_regex_cannot_stall_a_write(site: Site) -> None:
    key = quote("user:/app/name", safe="")
    meta = {"key": "check/validation", "value": "^(a+)+$"}
    status, body = await site.admin("POST", f"/api/clusters/{site.cluster}/kdbMeta/{key}", meta)
    assert status == 200, body
    async with asyncio.timeout(PATIENCE):
        status, refused = await site.admin(
            "PUT", f"/api/clusters/{site.cluster}/kdb/{key}", "a" * 40 + "!"
        )
    assert status == 400, refused
    status, refused = await site.admin(
        "PUT", f"/api/instances/{site.instance}/kdb/{key}", "a" * 40 + "!"
    )
    assert status in (400, 423), refused  # refused by validation, or by the cluster's lock
    status, written = await site.admin("PUT", f"/api/clusters/{site.cluster}/kdb/{key}", "a" * 40)
    assert status == 200, written
