"""Benchmark the KDB: get and set over each storage format, next to the format's own library.

    .venv/bin/python bench/kdb.py                       # 1k, 10k, 100k keys, every format
    .venv/bin/python bench/kdb.py --sizes 1000,10000 --formats dump,json
    .venv/bin/python bench/kdb.py --sizes 100000 --formats json --no-process --clock cpu

For every format and size it mounts one file holding N keys (``user:/bench/sectionJ/keyI``,
100 keys per section) and measures, best of a few runs:

- get_cold:  a fresh KDB reading and parsing the whole file (``kdb.get("user:/bench")``)
- get_iterate: the same, then reading every key's value: what a consumer of all keys pays
  (a get may leave building its keys to their first use: this row counts them)
- get_warm:  the same get again on the KDB that already read it (the elektrad case)
- get_one:   one key from the already loaded KDB (mean over many gets)
- set_one:   set after changing one key; set_all: set after changing every key
- rm+undo:   a set without one key, then a set with it again, which puts its lines back
  where they stood (two writes: compare with twice set_one)
- parse/dump: the format's own library parsing / printing the same file (json, tomlkit,
  ruamel.yaml, configupdater; our own reader and writer for dump)
- json.loads: the standard JSON parser reading the same keys as a JSON file, the yardstick
  for every format; peer: the fastest plain parser of the format itself (json.loads,
  tomllib, PyYAML's CSafeLoader, configparser), which keeps no layout
- read:      our storage module turning the same bytes into keys (get_cold/read is the
  overhead of the KDB layer itself: stat, hash, sidecar, spec, copies); JSON's read checks
  the document and leaves building the keys to their first use (get_iterate counts it)
- process:   ``kdb get`` of one key as a whole process (if the CLI is installed)

Then, as whole processes (wall time, best of ``--repeat``; peak RSS from ``wait4``), next to
a bare ``python -c pass`` of the same interpreter (the floor any Python command starts from)
and libelektra 0.11's C ``kdb`` as issue 10 measured it on the project's machine:

- kdb get / kdb set of one key in a dump file of ``--process-keys`` keys (default 100k)
- kdb get of one key from a KDB that holds one key

Aims: get_cold ≤ 1.5 × parse (json: ≤ 1.5 × json.loads), get_one < 50 µs at 100k keys;
processes at most libelektra's times, peak RSS at most 1.5 × its 35 MiB, small-KDB get ≤ 40 ms.
Prints the tables and writes bench/results/kdb.json.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from elektraweb.kdb import KDB, Key, KeySet
from elektraweb.kdb.mounts import Paths
from elektraweb.kdb.storage import EXTENSIONS, FORMATS, get_format

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "kdb.json"
KDB_COMMAND = HERE.parent / ".venv" / "bin" / "kdb"
PARENT = "user:/bench"
PER_SECTION = 100
BUDGET_SECONDS = 1.0  # stop repeating a measurement once it has taken this long
# What the in-process measurements read: wall time, or with --clock cpu this process's CPU
# time, which other work on a loaded machine distorts far less.
clock: Callable[[], float] = time.perf_counter


def best_of(action: Callable[[], object], repeat: int) -> float:
    """Seconds of the fastest of up to ``repeat`` runs (fewer if runs are slow)."""
    best = float("inf")
    spent = 0.0
    for _ in range(repeat):
        started = clock()
        action()
        elapsed = clock() - started
        best = min(best, elapsed)
        spent += elapsed
        if spent > BUDGET_SECONDS:
            break
    return best


def mean_of(action: Callable[[], object], count: int) -> float:
    started = clock()
    for _ in range(count):
        action()
    return (clock() - started) / count


def key_name(index: int) -> str:
    return f"{PARENT}/section{index // PER_SECTION}/key{index}"


def bench_keys(size: int, tag: str) -> list[Key]:
    return [Key(key_name(i), f"{tag}{i}") for i in range(size)]


def library(fmt: str) -> tuple[Callable[[bytes], object], Callable[[object], object]]:
    """The format's own library: parse bytes, and print what it parsed."""
    if fmt == "json":
        return json.loads, json.dumps
    if fmt == "toml":
        import tomlkit

        return (lambda data: tomlkit.parse(data.decode())), tomlkit.dumps  # type: ignore[arg-type]
    if fmt == "yaml":
        from ruamel.yaml import YAML

        yaml = YAML(typ="rt")

        def dump_yaml(document: object) -> str:
            stream = io.StringIO()
            yaml.dump(document, stream)
            return stream.getvalue()

        return (lambda data: yaml.load(data)), dump_yaml
    if fmt == "ini":
        from configupdater import ConfigUpdater

        def parse_ini(data: bytes) -> object:
            updater = ConfigUpdater()
            updater.read_string(data.decode())
            return updater

        return parse_ini, str
    storage = get_format(fmt)
    return (
        lambda data: storage.read(data, PARENT),
        lambda document: storage.write(document.keys, PARENT, document),  # type: ignore[attr-defined]
    )


def peer(fmt: str) -> Callable[[bytes], object] | None:
    """The fastest plain parser of the format (no comments, no layout kept)."""
    if fmt == "json":
        return json.loads
    if fmt == "toml":
        import tomllib

        return lambda data: tomllib.loads(data.decode())
    if fmt == "yaml":
        import yaml

        return lambda data: yaml.load(data, Loader=yaml.CSafeLoader)
    if fmt == "ini":
        import configparser

        def parse_ini(data: bytes) -> object:
            parser = configparser.ConfigParser(interpolation=None)
            parser.read_string(data.decode())
            return parser

        return parse_ini
    return None


def read_every_value(keys: KeySet) -> int:
    """Look at every key of ``keys`` (its value), as a consumer of all of them does."""
    return sum(key.value is not None for key in keys)


def as_json(size: int) -> bytes:
    """The bench keys as a JSON file, for ``json.loads`` as the common yardstick."""
    tree: dict[str, dict[str, str]] = {}
    for index in range(size):
        tree.setdefault(f"section{index // PER_SECTION}", {})[f"key{index}"] = f"v{index}"
    return json.dumps(tree, indent=2).encode()


def process_time(root: Path, repeat: int) -> float | None:
    if not KDB_COMMAND.exists():
        return None
    # As installed by pip: bytecode compiled once and reused, not compiled on every start.
    env = {**os.environ, "KDB_ROOT": str(root), "HOME": str(root)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    command = [str(KDB_COMMAND), "get", key_name(0)]

    def run() -> None:
        subprocess.run(command, env=env, check=True, capture_output=True)

    try:
        run()
    except subprocess.CalledProcessError as failure:
        print(f"kdb get failed ({failure.returncode}): {failure.stderr.decode()}", file=sys.stderr)
        return None
    return best_of(run, repeat)


# libelektra 0.11's C kdb, timed as a whole process on the project's machine (issue 10).
LIBELEKTRA = {
    "kdb get, 100k keys": (0.321, 35.0),
    "kdb set, 100k keys": (0.380, None),
    "kdb get, 1-key KDB": (0.008, None),
}
AIMS = {  # seconds, MiB
    "kdb get, 100k keys": (0.320, 53.0),
    "kdb set, 100k keys": (0.380, 53.0),
    "kdb get, 1-key KDB": (0.040, None),
}


# Runs each command line it is given (JSON on stdin) and reports its wall time and peak RSS.
# A process of its own, because Linux counts into a child's peak RSS the memory of the
# process that forked it, and this benchmark holds 100k keys; this one holds almost nothing.
_RUNNER = """
import json, os, sys, time
results = []
for command in json.load(sys.stdin):
    started = time.perf_counter()
    pid = os.posix_spawn(command[0], command, os.environ,
                         file_actions=[(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)])
    _, status, usage = os.wait4(pid, 0)
    results.append([time.perf_counter() - started, usage.ru_maxrss,
                    os.waitstatus_to_exitcode(status)])
print(json.dumps(results))
"""


def run_processes(commands: list[list[str]], env: dict[str, str]) -> list[tuple[float, float]]:
    """Wall seconds and peak RSS (MiB) of each of ``commands``, run one after the other."""
    done = subprocess.run([sys.executable, "-c", _RUNNER], input=json.dumps(commands),
                          env=env, capture_output=True, text=True, check=True)  # fmt: skip
    results = json.loads(done.stdout)
    for command, (_, _, code) in zip(commands, results, strict=True):
        if code != 0:
            raise RuntimeError(f"{' '.join(command)} failed with exit code {code}")
    return [(seconds, kib / 1024) for seconds, kib, _ in results]


def best_process(commands: list[list[str]], env: dict[str, str]) -> tuple[float, float]:
    """The fastest run's wall seconds and the highest peak RSS (MiB) of ``commands``."""
    runs = run_processes(commands, env)
    return min(t for t, _ in runs), max(rss for _, rss in runs)


def filled_kdb(root: Path, size: int) -> dict[str, str]:
    """A KDB under ``root`` with ``size`` keys in user:/'s default dump file; its environment."""
    env = {"KDB_ROOT": str(root), "HOME": str(root)}
    kdb = KDB(Paths.from_environ(env, cwd=root))
    keys = kdb.get(PARENT)
    keys.extend(bench_keys(size, "v"))
    kdb.set(keys, PARENT)
    env.update((k, v) for k, v in os.environ.items() if k not in env)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed by pip: bytecode is reused
    return env


def measure_processes(size: int, repeat: int) -> list[dict[str, float | str | None]]:
    """``kdb get``/``kdb set`` as processes next to the floor and libelektra's figures."""
    # As installed by pip: bytecode compiled once and reused, not compiled on every start.
    base_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    floor, floor_rss = best_process([[sys.executable, "-c", "pass"]] * repeat, base_env)
    rows: list[dict[str, float | str | None]] = []
    with tempfile.TemporaryDirectory(prefix="kdb-bench-process-") as directory:
        big, small = Path(directory) / "big", Path(directory) / "small"
        big_env, small_env = filled_kdb(big, size), filled_kdb(small, 1)
        middle = key_name(size // 2)
        kdb = str(KDB_COMMAND)
        cases = [
            (f"kdb get, {size // 1000}k keys", [[kdb, "get", middle]] * repeat, big_env),
            (f"kdb set, {size // 1000}k keys",
             [[kdb, "set", middle, f"changed{run}"] for run in range(repeat)], big_env),
            ("kdb get, 1-key KDB", [[kdb, "get", key_name(0)]] * repeat, small_env),
        ]  # fmt: skip
        for case, commands, env in cases:
            seconds, rss = best_process(commands, env)
            reference, reference_rss = LIBELEKTRA.get(case, (None, None))
            aim, aim_rss = AIMS.get(case, (None, None))
            rows.append({
                "case": case, "seconds": seconds, "peak_mib": rss,
                "floor_seconds": floor, "floor_peak_mib": floor_rss,
                "libelektra_seconds": reference, "libelektra_peak_mib": reference_rss,
                "aim_seconds": aim, "aim_peak_mib": aim_rss,
                "over_libelektra": seconds / reference if reference else None,
            })  # fmt: skip
    return rows


def print_process_table(rows: list[dict[str, float | str | None]]) -> None:
    def ms(value: object) -> str:
        return "-" if value is None else f"{float(value) * 1e3:.0f}"  # type: ignore[arg-type]

    def mib(value: object) -> str:
        return "-" if value is None else f"{float(value):.0f}"  # type: ignore[arg-type]

    print(
        f"\n{'process':20}{'ms':>7}{'MiB':>6}{'floor ms':>10}{'libelektra ms':>15}"
        f"{'MiB':>6}{'aim ms':>8}{'aim MiB':>9}"
    )
    for row in rows:
        print(
            f"{row['case']!s:20}{ms(row['seconds']):>7}{mib(row['peak_mib']):>6}"
            f"{ms(row['floor_seconds']):>10}{ms(row['libelektra_seconds']):>15}"
            f"{mib(row['libelektra_peak_mib']):>6}{ms(row['aim_seconds']):>8}"
            f"{mib(row['aim_peak_mib']):>9}"
        )


def measure(
    fmt: str, size: int, repeat: int, with_process: bool
) -> dict[str, float | int | str | None]:
    with tempfile.TemporaryDirectory(prefix="kdb-bench-") as directory:
        root = Path(directory)
        paths = Paths.from_environ({"KDB_ROOT": str(root), "HOME": str(root)}, cwd=root)
        kdb = KDB(paths)
        kdb.mount(f"bench.{EXTENSIONS[fmt]}", PARENT, fmt)
        ks = kdb.get(PARENT)
        ks.extend(bench_keys(size, "v"))
        kdb.set(ks, PARENT)
        file = kdb.file_of(PARENT)
        data = file.read_bytes()

        parse, dump = library(fmt)
        parsed = parse(data)
        storage = get_format(fmt)
        json_data = as_json(size)
        plain = peer(fmt)
        result: dict[str, float | int | str | None] = {
            "format": fmt,
            "keys": size,
            "bytes": len(data),
            "parse": best_of(lambda: parse(data), repeat),
            "dump": best_of(lambda: dump(parsed), repeat),
            "json_loads": best_of(lambda: json.loads(json_data), repeat),
            "peer": None if plain is None else best_of(lambda: plain(data), repeat),
            "read": best_of(lambda: storage.read(data, PARENT), repeat),
            "get_cold": best_of(lambda: KDB(paths).get(PARENT), repeat),
            "get_iterate": best_of(lambda: read_every_value(KDB(paths).get(PARENT)), repeat),
        }
        warm = KDB(paths)
        warm.get(PARENT)
        result["get_warm"] = best_of(lambda: warm.get(PARENT), repeat)
        one = key_name(size // 2)
        result["get_one"] = mean_of(lambda: warm.get(one), 2000 if size <= 10_000 else 500)

        flip = [0]

        def set_one() -> None:
            keys = warm.get(PARENT)
            flip[0] += 1
            keys.add(Key(one, f"changed{flip[0]}"))
            warm.set(keys, PARENT)

        def set_all() -> None:
            flip[0] += 1
            keys = KeySet(bench_keys(size, f"c{flip[0]}-"))
            warm.get(PARENT)
            warm.set(keys, PARENT)

        def remove_and_put_back() -> None:
            keys = warm.get(PARENT)
            kept = keys.lookup(one)
            assert kept is not None
            keys.remove(one)
            warm.set(keys, PARENT)
            keys.add(kept)
            warm.set(keys, PARENT)

        result["set_one"] = best_of(set_one, repeat)
        result["set_all"] = best_of(set_all, repeat)
        result["remove_and_put_back"] = best_of(remove_and_put_back, repeat)
        result["process"] = process_time(root, repeat) if with_process else None
        cold = float(result["get_cold"] or 0)
        result["cold_over_parse"] = cold / float(result["parse"] or 1)
        result["cold_over_read"] = cold / float(result["read"] or 1)
        result["cold_over_json"] = cold / float(result["json_loads"] or 1)
        result["iterate_over_json"] = float(result["get_iterate"] or 0) / float(
            result["json_loads"] or 1
        )
        result["read_over_json"] = float(result["read"] or 0) / float(result["json_loads"] or 1)
        result["set_over_json"] = float(result["set_one"] or 0) / float(result["json_loads"] or 1)
        return result


COLUMNS = (
    ("format", "format", "{}"),
    ("keys", "keys", "{}"),
    ("parse", "parse ms", "ms"),
    ("dump", "dump ms", "ms"),
    ("json_loads", "json.loads ms", "ms"),
    ("peer", "peer ms", "ms"),
    ("read", "read ms", "ms"),
    ("get_cold", "get cold ms", "ms"),
    ("cold_over_parse", "cold/parse", "{:.2f}"),
    ("cold_over_read", "cold/read", "{:.2f}"),
    ("read_over_json", "read/json.loads", "{:.1f}"),
    ("cold_over_json", "cold/json.loads", "{:.1f}"),
    ("get_iterate", "get+iterate ms", "ms"),
    ("iterate_over_json", "get+iterate/json.loads", "{:.1f}"),
    ("set_over_json", "set one/json.loads", "{:.1f}"),
    ("get_warm", "get warm ms", "ms"),
    ("get_one", "get one µs", "us"),
    ("set_one", "set one ms", "ms"),
    ("set_all", "set all ms", "ms"),
    ("remove_and_put_back", "rm+undo ms", "ms"),
    ("process", "kdb get ms", "ms"),
)


def cell(value: object, style: str) -> str:
    if value is None:
        return "-"
    if style == "ms":
        return f"{float(value) * 1e3:.1f}"  # type: ignore[arg-type]
    if style == "us":
        return f"{float(value) * 1e6:.1f}"  # type: ignore[arg-type]
    return style.format(value)


def print_table(rows: list[dict[str, float | int | str | None]]) -> None:
    table = [[title for _, title, _ in COLUMNS]]
    table += [[cell(row[name], style) for name, _, style in COLUMNS] for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS))]
    for line in table:
        print("  ".join(text.rjust(width) for text, width in zip(line, widths, strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="comma-separated key counts")
    parser.add_argument("--formats", default=",".join(FORMATS), help="comma-separated formats")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (best)")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the JSON")
    parser.add_argument("--no-process", action="store_true",
                        help="skip timing `kdb get` and `kdb set` as processes")  # fmt: skip
    parser.add_argument("--process-keys", type=int, default=100_000,
                        help="keys in the file the process rows get and set one of")  # fmt: skip
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="what in-process rows measure (processes: wall)")  # fmt: skip
    options = parser.parse_args()
    global clock
    clock = time.process_time if options.clock == "cpu" else time.perf_counter
    rows = []
    for fmt in options.formats.split(","):
        for size in (int(s) for s in options.sizes.split(",")):
            print(f"measuring {fmt} with {size} keys ...", file=sys.stderr, flush=True)
            rows.append(measure(fmt, size, options.repeat, not options.no_process))
    print_table(rows)
    processes: list[dict[str, float | str | None]] = []
    if not options.no_process and KDB_COMMAND.exists():
        print("measuring kdb as a process ...", file=sys.stderr, flush=True)
        processes = measure_processes(options.process_keys, max(options.repeat, 3))
        print_process_table(processes)
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(
        json.dumps({"python": sys.version, "results": rows, "processes": processes}, indent=2)
    )
    print(f"\nwritten to {options.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
