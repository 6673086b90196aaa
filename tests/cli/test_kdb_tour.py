"""The kdb tour in README.md runs as written: each `kdb` line, its `#>` output, its exit code."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from cli.kdb_runner import Kdb

TOUR = Path(__file__).parents[2] / "README.md"
_EXIT = re.compile(r"\bexit (\d+)\b")


@dataclass
class Step:
    line: str
    args: list[str]
    stdin: str | None = None
    stdout: str | None = None
    exit_code: int = 0
    expected: list[str] = field(default_factory=list)


def _steps() -> list[Step]:
    steps: list[Step] = []
    in_shell = False
    for line in TOUR.read_text().splitlines():
        if line.startswith("```"):
            in_shell = line == "```sh"
            continue
        if not in_shell:
            continue
        if line.startswith("#>"):
            steps[-1].expected.append(line[3:])
        elif line.startswith("kdb "):
            steps.append(_step(line))
    return steps


def _step(line: str) -> Step:
    command, _, comment = line.partition("  #")
    words = shlex.split(command)
    step = Step(line, words[1:])
    if "<" in step.args:
        at = step.args.index("<")
        step.stdin, step.args = step.args[at + 1], step.args[:at]
    if ">" in step.args:
        at = step.args.index(">")
        step.stdout, step.args = step.args[at + 1], step.args[:at]
    found = _EXIT.search(comment)
    if found:
        step.exit_code = int(found.group(1))
    return step


def test_the_tour_has_commands_and_outputs() -> None:
    steps = _steps()
    assert len(steps) > 20
    assert sum(len(step.expected) for step in steps) > 10


def test_the_tour_runs_as_documented(kdb: Kdb) -> None:
    for step in _steps():
        stdin = (kdb.cwd / step.stdin).read_bytes() if step.stdin else b""
        done = kdb.run_bytes(*step.args, stdin=stdin)
        assert done.returncode == step.exit_code, f"{step.line}\n{done.stderr.decode()}"
        if step.stdout:
            (kdb.cwd / step.stdout).write_bytes(done.stdout)
        elif step.expected:
            expected = [line.replace("$KDB_ROOT", str(kdb.root)) for line in step.expected]
            assert done.stdout.decode().splitlines() == expected, step.line
