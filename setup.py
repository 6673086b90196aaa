"""Build hook: the web client's npm libraries go into every wheel (docs/deploy.md, Packaging).

setuptools reads the project from pyproject.toml; this file only adds a build_py step. When
`src/elektraweb/web/static/vendor/` lacks a file (a fresh clone, or an sdist built from one),
the step runs `npm ci` on a copy of package.json and package-lock.json in a temporary directory
and copies the libraries into the build, through the same `vendor()` that `make install` uses.
Editable installs skip it: there `make install` vendors into the source tree.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import ModuleType

from setuptools import setup
from setuptools.command.build_py import build_py

WEB_DIR = Path(__file__).resolve().parent / "src" / "elektraweb" / "web"


def _assets_module() -> ModuleType:
    # Loaded by path: the package itself is not importable while it is being built.
    spec = importlib.util.spec_from_file_location("elektraweb_web_assets", WEB_DIR / "assets.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class BuildWithWebClient(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        assets = _assets_module()
        vendor_dir = Path(self.build_lib) / "elektraweb" / "web" / "static" / "vendor"
        if not assets.missing_vendor_files(vendor_dir):
            return
        npm = shutil.which("npm")
        if npm is None:
            raise SystemExit("building elektraweb needs npm, to fetch the web client's libraries")
        with tempfile.TemporaryDirectory(prefix="elektraweb-npm-") as scratch:
            for name in ("package.json", "package-lock.json"):
                shutil.copyfile(WEB_DIR / name, Path(scratch) / name)
            subprocess.run(
                [npm, "ci", "--prefix", scratch, "--no-audit", "--no-fund", "--silent"],
                check=True,
            )
            for written in assets.vendor(Path(scratch) / "node_modules", vendor_dir):
                print(f"vendored {written.name} into the build")


setup(cmdclass={"build_py": BuildWithWebClient})
