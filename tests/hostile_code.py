"""The hostile snippets in tests/hostile/ as the code text the sandbox runs.

A snippet runs as text in a sandboxed process that cannot import from tests/: its
`from _prelude import …` line is replaced by tests/hostile/_prelude.py (code several snippets
share), and `PARAMS` is filled with the paths and ports of the test that runs it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

HOSTILE = Path(__file__).parent / "hostile"
PRELUDE = HOSTILE / "_prelude.py"
PRELUDE_IMPORT = "from _prelude import "
# Files named "_…" hold shared code, not snippets.
SNIPPETS = sorted(p for p in HOSTILE.glob("*.py") if not p.name.startswith("_"))


def snippet_code(name: str, params: dict[str, Any] | None = None) -> str:
    """The code of tests/hostile/`name`.py, the prelude inlined; `params` fill its `PARAMS`."""
    lines = (HOSTILE / f"{name}.py").read_text().splitlines(keepends=True)
    code = "".join(PRELUDE.read_text() if line.startswith(PRELUDE_IMPORT) else line for line in lines)
    if params is not None:
        code = code.replace("PARAMS: dict = {}", f"PARAMS: dict = {params!r}", 1)
    return code
