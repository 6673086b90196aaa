"""Which cluster an instance is in: registering and changing instances, joins, leaves and
removals (`Membership`, a part of `registry.Registry`). An instance belongs to at most one
cluster, and only an accepted one joins.

Across clusterd replicas on one database (docs/architecture.md, The rule on check-then-write):
every transaction here first takes `MEMBERSHIP` (`Database.serialize`; registering an instance
only when it goes straight into a cluster), so that what it read of the members is what it
writes over, the version of the cluster it changes moves on, and a removal reports every member
it released; the identity rules and cluster names are unique constraints, whose violation by a
registration made meanwhile on another replica is refused like the check's.
"""

from __future__ import annotations

from dataclasses import replace

from elektraweb.cluster.store.clusters import Cluster, ClusterRecords, touch_cluster
from elektraweb.cluster.store.connection import checked_again, new_id
from elektraweb.cluster.store.errors import RecordConflict, RecordNotFound
from elektraweb.cluster.store.instances import (
    Instance,
    InstanceFields,
    InstanceRecords,
    InstanceState,
    instance_from_row,
)

MEMBERSHIP = "membership"
"""The rule `Database.serialize` takes before a change of members: a cluster counts exactly the
instances that are in it, and its version moves on with each change of them."""


class Membership(InstanceRecords, ClusterRecords):
    """The registry's changes of instances and of members; every method is one transaction."""

    def member(self, cluster_id: int, instance_id: int) -> Instance | None:
        """The instance if it is a member of the cluster now, read from the database rather
        than the cache: whether a member is written hangs on it, and another clusterd's
        leave reaches the cache only with its notice."""
        row = self._db.connection.execute(
            "SELECT * FROM instances WHERE id = ? AND cluster_id = ?", (instance_id, cluster_id)
        ).fetchone()
        return None if row is None else instance_from_row(row)

    def add_instance(
        self,
        fields: InstanceFields,
        *,
        state: InstanceState = "accepted",
        cluster_id: int | None = None,
    ) -> Instance:
        """Register the instance, `pending` for an admin to accept, or accepted (then
        straight into `cluster_id`, if given)."""
        fields = fields.validated()
        if state == "pending" and cluster_id is not None:
            raise ValueError("a pending instance joins no cluster")
        with checked_again(lambda: self.check_unique(fields)), self._db.transaction() as db:
            if cluster_id is not None:
                self._db.serialize(MEMBERSHIP)
                self.cluster(cluster_id)
            self.check_unique(fields)
            cursor = db.execute(
                "INSERT INTO instances (name, endpoint, endpoint_key, public_key, description,"
                " visibility, state, cluster_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (*fields.columns(), state, cluster_id),
            )
            if cluster_id is not None:
                touch_cluster(db, cluster_id)
            self._db.changed("instances")
            return self.instance(new_id(cursor))

    def update_instance(self, instance_id: int, fields: InstanceFields) -> Instance:
        fields = fields.validated()
        unique = checked_again(lambda: self.check_unique(fields, except_id=instance_id))
        with unique, self._db.transaction() as db:
            self._db.serialize(MEMBERSHIP)  # the cluster it is in when it changes moves on
            current = self.instance(instance_id)
            self.check_unique(fields, except_id=instance_id)
            if current.cluster_id is not None:
                touch_cluster(db, current.cluster_id)
            db.execute(
                "UPDATE instances SET name = ?, endpoint = ?, endpoint_key = ?, public_key = ?,"
                " description = ?, visibility = ? WHERE id = ?",
                (*fields.columns(), instance_id),
            )
            self._db.changed("instances")
            return self.instance(instance_id)

    def remove_instance(self, instance_id: int) -> tuple[Instance, Cluster | None]:
        """Delete the instance, with what clusterd recorded of it as a member (cascaded); the
        cluster it is in moves on. Returns the instance as it was and that cluster (None: in
        none) as of the removal, whose keys its daemon still holds locked: the cluster read
        before may not be it, when another request moved the instance meanwhile."""
        with self._db.transaction() as db:
            self._db.serialize(MEMBERSHIP)
            instance = self.instance(instance_id)
            cluster = None
            if instance.cluster_id is not None:
                cluster = self.cluster(instance.cluster_id)
                touch_cluster(db, instance.cluster_id)
            db.execute("DELETE FROM instances WHERE id = ?", (instance_id,))
            self._db.changed("instances")
            return instance, cluster

    def remove_cluster(self, cluster_id: int) -> tuple[Cluster, list[Instance]]:
        """Delete the cluster and its desired state; its members are released, not deleted."""
        with self._db.transaction() as db:
            self._db.serialize(MEMBERSHIP)
            cluster = self.cluster(cluster_id)
            released = self.members(cluster_id)
            db.execute("UPDATE instances SET cluster_id = NULL WHERE cluster_id = ?", (cluster_id,))
            db.execute("DELETE FROM clusters WHERE id = ?", (cluster_id,))
            self._db.changed("clusters")
            return cluster, [replace(member, cluster_id=None) for member in released]

    def join(self, cluster_id: int, instance_id: int) -> Instance:
        """Make the instance a member; refused (`RecordConflict`) if it is in any cluster."""
        with self._db.transaction() as db:
            self._db.serialize(MEMBERSHIP)
            self.cluster(cluster_id)
            instance = self._joinable(instance_id)
            db.execute(
                "UPDATE instances SET cluster_id = ? WHERE id = ?", (cluster_id, instance_id)
            )
            touch_cluster(db, cluster_id)
            self._db.changed("instances")
            return replace(instance, cluster_id=cluster_id)

    def _joinable(self, instance_id: int) -> Instance:
        """The instance, if it may join a cluster: accepted, and in none."""
        instance = self.instance(instance_id)
        if instance.state == "pending":
            raise RecordConflict(
                f"{instance.describe()} is pending: accept it before it joins a cluster",
                code="instance-pending",
                instance=instance.id,
            )
        if instance.cluster_id is not None:
            current = self.cluster(instance.cluster_id)
            raise RecordConflict(
                f"{instance.describe()} is already a member of cluster {current.name!r}"
                f" (id {current.id}); an instance belongs to at most one cluster",
                code="already-member",
                instance=instance.id,
                cluster=current.id,
            )
        return instance

    def leave(self, cluster_id: int, instance_id: int) -> Instance:
        """Take the instance out of the cluster, with what clusterd recorded of it as a
        member; `RecordNotFound` if it is not a member."""
        with self._db.transaction() as db:
            self._db.serialize(MEMBERSHIP)
            cluster = self.cluster(cluster_id)
            instance = self.instance(instance_id)
            if instance.cluster_id != cluster_id:
                raise RecordNotFound(
                    f"{instance.describe()} is not a member of cluster {cluster.name!r}"
                    f" (id {cluster.id})",
                    instance=instance.id,
                    cluster=cluster.id,
                )
            db.execute("UPDATE instances SET cluster_id = NULL WHERE id = ?", (instance_id,))
            # What clusterd recorded of it as a member goes with it, as a removal's cascade
            # takes it: rows left behind would tell a later join that it has the keys.
            db.execute(
                "DELETE FROM cluster_applied WHERE cluster_id = ? AND instance_id = ?",
                (cluster_id, instance_id),
            )
            touch_cluster(db, cluster_id)
            self._db.changed("instances")
            return replace(instance, cluster_id=None)
