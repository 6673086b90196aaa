"""Puts `tests/` on the import path, so every test module can import the shared `support`
package, whichever directory pytest starts from."""

import sys
from pathlib import Path

_TESTS = str(Path(__file__).parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)
