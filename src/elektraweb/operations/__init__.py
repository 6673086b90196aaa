"""The KeySet rules of every key operation, once, below both daemons (docs/architecture.md).

``get``, ``ls``, ``find``, ``set``, ``rm``, ``mv``, ``cp``, the metadata operations, ``set-all``,
``export`` and ``import`` run against a :class:`~elektraweb.operations.store.KeyStore`: elektrad's
over its KDB, clusterd's over a cluster's desired state. Refusals are the protocol's
``RemoteError``; results are the JSON of ``wire.replies``.
"""
