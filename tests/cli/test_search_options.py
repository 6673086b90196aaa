"""--search-budget and --search-limit on both daemons: a value no search could run with is a
usage error naming the option, before anything starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from elektraweb.cli import clusterd, elektrad

KEY = "rq:rRt]^lx{3jS6zyO@ZZAY.d6&=4a4Bsl/<o@cN"  # any z85 key: parsing stops before it is used


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        (["--search-budget", "0"], "search budget 0.0 s is not within (0, 3600]"),
        (["--search-budget", "-1"], "is not within"),
        (["--search-limit", "0"], "search result limit 0 must be at least 1"),
    ],
)
@pytest.mark.parametrize("daemon", ["clusterd", "elektrad"])
def test_unusable_search_limits_are_usage_errors(
    daemon: str,
    options: list[str],
    problem: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    main = clusterd.main if daemon == "clusterd" else elektrad.main
    argv = ["--state", str(tmp_path), *options]
    if daemon == "elektrad":
        argv.append(f"--allow-key={KEY}")
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "--search-budget/--search-limit" in err and problem in err
