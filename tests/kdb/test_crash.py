import os
import random
import subprocess
import sys
import time
from pathlib import Path

from elektraweb.kdb import KDB, Key
from elektraweb.kdb.mounts import Paths

# Each set writes two files: a dump file, and a toml file whose key carries metadata toml
# cannot hold, so its sidecar is written in the same set.
WRITER = """
import sys
from elektraweb.kdb import KDB, Key

kdb = KDB()
for counter in range(int(sys.argv[1]), 10**9):
    ks = kdb.get("user:/")
    ks.add(Key("user:/app/counter", str(counter)))
    ks.add(Key("user:/app/padding", "x" * (counter % 97)))
    ks.add(Key("user:/cfg/counter", str(counter), {"check/type": "long", "x/n": str(counter)}))
    kdb.set(ks, "user:/")
    print(counter, flush=True)
"""

KILLS = 10


def counters(paths: Paths) -> tuple[int, int, str]:
    ks = KDB(paths).get("user:/")  # a fresh KDB: everything is parsed from disk
    app = ks.lookup("user:/app/counter")
    cfg = ks.lookup("user:/cfg/counter")
    assert app is not None and cfg is not None
    return int(app.text), int(cfg.text), cfg.meta["x/n"]


def test_a_writer_killed_at_random_points_leaves_old_or_new_files(tmp_path: Path) -> None:
    env = {**os.environ, "KDB_ROOT": str(tmp_path), "HOME": str(tmp_path)}
    paths = Paths.from_environ(env, cwd=tmp_path)
    kdb = KDB(paths)
    kdb.mount("app.ecf", "user:/app", "dump")
    kdb.mount("cfg.toml", "user:/cfg", "toml")
    rng = random.Random(20240611)
    start = 0
    total_sets = 0
    for _ in range(KILLS):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(start)], env=env, stdout=subprocess.PIPE, text=True
        )
        assert writer.stdout is not None
        acknowledged = []
        for _ in range(rng.randint(5, 30)):
            line = writer.stdout.readline()
            assert line, "the writer died on its own"
            acknowledged.append(int(line))
        time.sleep(rng.uniform(0, 0.004))
        writer.kill()
        rest, _ = writer.communicate(timeout=10)
        acknowledged.extend(int(line) for line in rest.split())
        last = acknowledged[-1]
        app, cfg, meta = counters(paths)
        # A set acknowledged is on disk; the one in flight when killed may or may not be.
        assert app in (last, last + 1)
        assert cfg in (last, last + 1)
        assert meta in (str(last), str(last + 1))
        total_sets += last - start + 1
        start = max(app, cfg) + 1
    assert total_sets >= 100

    ks = kdb.get("user:/")
    ks.add(Key("user:/app/counter", "done"))
    ks.add(Key("user:/cfg/counter", "done", {"check/type": "string", "x/n": "done"}))
    kdb.set(ks, "user:/")
    leftovers = [p.name for p in (tmp_path / "user").iterdir() if p.name.endswith(".tmp")]
    assert leftovers == [], "temporary files of killed writers are cleaned up by the next set"
