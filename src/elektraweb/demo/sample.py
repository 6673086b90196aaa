"""The demo's sample configuration: four mounted files and their specification, in one KDB.

`files/` holds an ini, a toml, a yaml and a json file (mounted below `system:/demo`) and
`spec.toml`, the metadata of their keys (types, ranges, enums, regexes, descriptions,
defaults), which becomes `spec:/demo/...`. `write_sample` sets it all up below a `KDB_ROOT`.
"""

from __future__ import annotations

import shutil
import tomllib
from importlib import resources
from pathlib import Path

from elektraweb.kdb import KDB, Key
from elektraweb.kdb.mounts import Paths

ROOT = "/demo"
MOUNTS = {
    "web.ini": "web",
    "database.toml": "database",
    "cache.yaml": "cache",
    "features.json": "features",
}
"""Sample file → where below `system:/demo` it is mounted."""
SPEC_FILE = "spec.toml"


def _files() -> resources.abc.Traversable:
    return resources.files(__package__).joinpath("files")


def spec_keys() -> list[Key]:
    """The `spec:/demo/...` keys described by `spec.toml`."""
    spec = tomllib.loads(_files().joinpath(SPEC_FILE).read_text(encoding="utf-8"))
    return [
        Key(f"spec:{ROOT}/{name}", None, {meta: str(value) for meta, value in metadata.items()})
        for name, metadata in spec.items()
    ]


def write_sample(kdb_root: Path, home: Path, name: str) -> None:
    """Put the sample configuration into the KDB below `kdb_root`, for the instance `name`.

    The files are copied to `<kdb_root>/system/demo/`, mounted, and `web/server/name` is set to
    `name`, so each instance shows a little of its own.
    """
    paths = Paths.from_environ({"KDB_ROOT": str(kdb_root), "HOME": str(home)}, cwd=home)
    target = paths.system / "demo"
    target.mkdir(parents=True, exist_ok=True)
    kdb = KDB(paths)
    for file, below in MOUNTS.items():
        with resources.as_file(_files().joinpath(file)) as source:
            shutil.copyfile(source, target / file)
        kdb.mount(f"demo/{file}", f"system:{ROOT}/{below}")
    spec = kdb.get(f"spec:{ROOT}")
    for key in spec_keys():
        spec.add(key)
    kdb.set(spec, f"spec:{ROOT}")
    own = kdb.get(f"system:{ROOT}/web")
    own.add(Key(f"system:{ROOT}/web/server/name", name))
    kdb.set(own, f"system:{ROOT}/web")
