"""lock and unlock: which keys a cluster owns on this instance."""

from __future__ import annotations

from elektraweb.instance.context import Host
from elektraweb.instance.kdb_store import locked_error
from elektraweb.instance.locks import LockedError
from elektraweb.operations.arguments import Args
from elektraweb.operations.result import OperationResult
from elektraweb.wire.errors import bad_request


def _cluster(args: Args) -> str:
    cluster = args.cluster()
    if cluster is None:
        raise bad_request(f"{args.op}: argument 'cluster' is missing")
    return cluster


def _owned(host: Host, cluster: str) -> OperationResult:
    return OperationResult({"cluster": cluster, "keys": host.locks.by_cluster().get(cluster, [])})


def lock(host: Host, args: Args) -> OperationResult:
    cluster = _cluster(args)
    keys = args.key_list("keys")
    try:
        host.locks.lock(cluster, keys)
    except LockedError as error:
        raise locked_error(error) from None
    return _owned(host, cluster)


def unlock(host: Host, args: Args) -> OperationResult:
    cluster = _cluster(args)
    keys = args.key_list("keys") if "keys" in args else None
    host.locks.unlock(cluster, keys)
    return _owned(host, cluster)
