"""Where the web client's files are, and how its npm libraries get next to them.

clusterd serves `STATIC_DIR` at `/` (index.html, app.css, app/*.js). The page imports preact,
its hooks and htm from `/vendor/`, through the import map in index.html. Those files come from
npm (versions pinned in `package-lock.json` beside this module) and are copied, unchanged, into
`static/vendor/` by `python -m elektraweb.web.assets` after `npm ci --prefix src/elektraweb/web`.
No build step: the browser loads the same ES modules npm ships.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

WEB_DIR = Path(__file__).resolve().parent
STATIC_DIR = WEB_DIR / "static"
VENDOR_DIR = STATIC_DIR / "vendor"
NODE_MODULES = WEB_DIR / "node_modules"

VENDORED: dict[str, str] = {
    "preact.js": "preact/dist/preact.mjs",
    "hooks.js": "preact/hooks/dist/hooks.mjs",
    "htm.js": "htm/dist/htm.mjs",
}
"""File in `static/vendor/` → its source below node_modules. Renamed to `.js` because Python's
mimetypes (used by aiohttp to serve them) do not know `.mjs`, and browsers refuse a module
whose Content-Type is not JavaScript."""


INSTALL_COMMAND = (
    "make install  (or: npm ci --prefix src/elektraweb/web && python -m elektraweb.web.assets)"
)
"""What puts the vendored files in place, as the refusal to serve without them names it."""


def missing_vendor_files(vendor_dir: Path = VENDOR_DIR) -> list[str]:
    """Names of vendored files that are not there yet (the page cannot start without them)."""
    return [name for name in VENDORED if not (vendor_dir / name).is_file()]


def check_web_client(root: Path) -> None:
    """Raise ValueError naming the vendored files a web client at `root` (one with an
    index.html) lacks, and the command that installs them: the page would load blank."""
    if not (root / "index.html").is_file():
        return  # no web client to serve
    missing = missing_vendor_files(root / "vendor")
    if missing:
        files = ", ".join(str(root / "vendor" / name) for name in missing)
        raise ValueError(f"the web client's files are missing: {files}; run {INSTALL_COMMAND}")


def vendor(node_modules: Path = NODE_MODULES, vendor_dir: Path = VENDOR_DIR) -> list[Path]:
    """Copy the libraries from `node_modules` into `vendor_dir`; returns the files written.

    Raises FileNotFoundError naming the missing file and the command that installs it.
    """
    vendor_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, source in VENDORED.items():
        origin = node_modules / source
        if not origin.is_file():
            raise FileNotFoundError(
                f"{origin} is missing: run `npm ci --prefix {node_modules.parent}` first"
            )
        target = vendor_dir / name
        shutil.copyfile(origin, target)
        written.append(target)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    del argv
    try:
        written = vendor()
    except FileNotFoundError as error:
        print(f"elektraweb.web.assets: {error}", file=sys.stderr)
        return 1
    for path in written:
        print(f"vendored {path.relative_to(WEB_DIR)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
