"""The store's refusals: raised without any HTTP by the store on a real database file, and
answered by clusterd with the status and the members that name what they are about."""

from __future__ import annotations

import pytest

from elektraweb.cluster.store.database import Database
from elektraweb.cluster.store.errors import InvalidField, RecordConflict, RecordNotFound
from elektraweb.cluster.store.instances import InstanceFields
from elektraweb.cluster.store.registry import Registry
from elektraweb.cluster.store.users import Users
from elektraweb.wire import KeyPair

from ..fakes import USER_PASSWORD, Client


async def test_the_store_names_what_it_refuses(database: Database) -> None:
    users, registry = Users(database), Registry(database)
    await users.add("ada", USER_PASSWORD, "admin")

    with pytest.raises(RecordConflict) as duplicate:
        await users.add("ada", USER_PASSWORD, "viewer")
    assert (duplicate.value.code, duplicate.value.subject) == ("duplicate-user", {"user": "ada"})

    with pytest.raises(RecordNotFound) as missing:
        registry.cluster(7)
    assert missing.value.subject == {"cluster": 7}
    assert "no cluster with id 7" in missing.value.message

    with pytest.raises(InvalidField) as invalid:
        registry.add_instance(InstanceFields("web", "http://host:1", KeyPair.generate().public))
    assert invalid.value.field == "endpoint"
    assert registry.instances() == []  # nothing half-added


async def test_clients_get_the_status_and_the_members_that_name_the_refusal(
    admin: Client,
) -> None:
    missing = await admin.get("/api/clusters/7")
    assert (missing.status, missing.body["error"]["cluster"]) == (404, 7)

    user = {"name": "olga", "password": USER_PASSWORD, "role": "viewer"}
    assert (await admin.post("/api/users", user)).status == 201
    duplicate = await admin.post("/api/users", user)
    assert duplicate.status == 409
    assert duplicate.body["error"] == {
        "code": "duplicate-user",
        "message": "user 'olga' already exists",
        "user": "olga",
    }

    short = await admin.post("/api/users", {**user, "name": "ida", "password": "short"})
    assert short.status == 400
    assert (short.body["error"]["code"], short.body["error"]["field"]) == (
        "bad-request",
        "password",
    )
