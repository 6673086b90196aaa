"""Benchmark the KDB: get and set over each storage format, next to the format's own library.

    .venv/bin/python bench/kdb.py                       # 1k, 10k, 100k keys, every format
    .venv/bin/python bench/kdb.py --sizes 1000,10000 --formats dump,json

For every format and size it mounts one file holding N keys (``user:/bench/sectionJ/keyI``,
100 keys per section) and measures, best of a few runs:

- get_cold:  a fresh KDB reading and parsing the whole file (``kdb.get("user:/bench")``)
- get_warm:  the same get again on the KDB that already read it (the elektrad case)
- get_one:   one key from the already loaded KDB (mean over many gets)
- set_one:   set after changing one key; set_all: set after changing every key
- parse/dump: the format's own library parsing / printing the same file (json, tomlkit,
  ruamel.yaml, configupdater; our own reader and writer for dump)
- read:      our storage module turning the same bytes into keys (get_cold/read is the
  overhead of the KDB layer itself: stat, hash, sidecar, spec, copies)
- process:   ``kdb get`` of one key as a whole process (if the CLI is installed)

Aims: get_cold ≤ 1.5 × parse, get_one < 50 µs at 100k keys, process < 100 ms.
Prints a table and writes bench/results/kdb.json.
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


def best_of(action: Callable[[], object], repeat: int) -> float:
    """Seconds of the fastest of up to ``repeat`` runs (fewer if runs are slow)."""
    best = float("inf")
    spent = 0.0
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        elapsed = time.perf_counter() - started
        best = min(best, elapsed)
        spent += elapsed
        if spent > BUDGET_SECONDS:
            break
    return best


def mean_of(action: Callable[[], object], count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        action()
    return (time.perf_counter() - started) / count


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
        result: dict[str, float | int | str | None] = {
            "format": fmt,
            "keys": size,
            "bytes": len(data),
            "parse": best_of(lambda: parse(data), repeat),
            "dump": best_of(lambda: dump(parsed), repeat),
            "read": best_of(lambda: storage.read(data, PARENT), repeat),
            "get_cold": best_of(lambda: KDB(paths).get(PARENT), repeat),
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

        result["set_one"] = best_of(set_one, repeat)
        result["set_all"] = best_of(set_all, repeat)
        result["process"] = process_time(root, repeat) if with_process else None
        cold = float(result["get_cold"] or 0)
        result["cold_over_parse"] = cold / float(result["parse"] or 1)
        result["cold_over_read"] = cold / float(result["read"] or 1)
        return result


COLUMNS = (
    ("format", "format", "{}"),
    ("keys", "keys", "{}"),
    ("parse", "parse ms", "ms"),
    ("dump", "dump ms", "ms"),
    ("read", "read ms", "ms"),
    ("get_cold", "get cold ms", "ms"),
    ("cold_over_parse", "cold/parse", "{:.2f}"),
    ("cold_over_read", "cold/read", "{:.2f}"),
    ("get_warm", "get warm ms", "ms"),
    ("get_one", "get one µs", "us"),
    ("set_one", "set one ms", "ms"),
    ("set_all", "set all ms", "ms"),
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
    parser.add_argument("--no-process", action="store_true", help="skip timing `kdb get`")
    options = parser.parse_args()
    rows = []
    for fmt in options.formats.split(","):
        for size in (int(s) for s in options.sizes.split(",")):
            print(f"measuring {fmt} with {size} keys ...", file=sys.stderr, flush=True)
            rows.append(measure(fmt, size, options.repeat, not options.no_process))
    print_table(rows)
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(json.dumps({"python": sys.version, "results": rows}, indent=2))
    print(f"\nwritten to {options.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
