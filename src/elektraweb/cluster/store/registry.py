"""The registry: which instances clusterd knows and which clusters group them, the one object
the rest of clusterd reads and changes them through. Its parts, one concept each:
`instances` (what an instance is, its identity rules, an admin's decision on an enrolled one),
`clusters` (a cluster's own row and version) and `membership` (registering and changing
instances, joins, leaves and removals, under the membership lock).

An instance and a cluster are read through a cache (`row_cache`), which every transaction that
changes them empties on each clusterd (`Database.changed`).
"""

from __future__ import annotations

from elektraweb.cluster.store.clusters import Cluster
from elektraweb.cluster.store.database import Database
from elektraweb.cluster.store.instances import Instance
from elektraweb.cluster.store.membership import Membership
from elektraweb.cluster.store.row_cache import RowCache


class Registry(Membership):
    """Instances and clusters in the database; every method is one transaction."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self._instances: RowCache[int, Instance] = RowCache(database)
        self._clusters: RowCache[int, Cluster] = RowCache(database)
