"""The login throttle counts on the database, not in each replica (docs/security.md §6): with
two real clusterd replicas on one PostgreSQL database, guesses spread over both, as a
round-robin balancer spreads them, lock the user name or the client address out on both; neither
replica alone has seen enough of them to lock anything by itself."""

from __future__ import annotations

from support.logins import login_from
from support.processes import Clusterd

FREE_FAILURES = 5
"""clusterd's default: the sixth attempt of a user name or an address is refused."""


async def assert_locked_on_both(pair: dict[str, Clusterd], user: str, sources: list[str]) -> None:
    for replica, source in zip(pair.values(), sources, strict=True):
        status, body, retry_after = await login_from(
            replica.url, source, user, replica.admin_password
        )
        assert (status, body["error"]["code"]) == (429, "login-throttled"), body
        assert retry_after is not None and int(retry_after) >= 1
        assert body["error"]["retry_after"] == int(retry_after)


async def test_guesses_for_one_user_over_two_replicas_lock_it_out_on_both(
    pair: dict[str, Clusterd],
) -> None:
    a, b = pair["a"], pair["b"]
    for guess in range(FREE_FAILURES):  # a sees 3 of them, b 2, each from an address of its own
        replica = (a, b)[guess % 2]
        status, _, _ = await login_from(replica.url, f"127.0.0.{50 + guess}", "admin", "wrong!!!")
        assert status == 401
    await assert_locked_on_both(pair, "admin", ["127.0.0.60", "127.0.0.61"])


async def test_one_address_guessing_over_two_replicas_is_locked_out_on_both(
    pair: dict[str, Clusterd],
) -> None:
    a, b = pair["a"], pair["b"]
    for guess in range(FREE_FAILURES):
        replica = (a, b)[guess % 2]
        status, _, _ = await login_from(replica.url, "127.0.0.70", f"user-{guess}", "wrong!!!")
        assert status == 401
    await assert_locked_on_both(pair, "admin", ["127.0.0.70", "127.0.0.70"])
    # Another address still logs in, on either replica.
    for replica in (a, b):
        status, _, _ = await login_from(replica.url, "127.0.0.71", "admin", replica.admin_password)
        assert status == 200
