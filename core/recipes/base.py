"""The recipe record and the renderer that turns chosen recipes into a stage contract function."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Stage -> (entrypoint, argument name, full signature line). Fixed by docs/ARCHITECTURE.md.
CONTRACTS: dict[str, tuple[str, str, str]] = {
    "clean": ("clean", "df", "def clean(df: pd.DataFrame) -> pd.DataFrame:"),
    "feature": ("add_features", "df", "def add_features(df: pd.DataFrame) -> pd.DataFrame:"),
    "model": ("build_model", "X", "def build_model(X: pd.DataFrame):"),
    "ask": ("answer", "df", "def answer(df: pd.DataFrame):"),
}
HEADER_IMPORTS = "import numpy as np\nimport pandas as pd\n"


@dataclass
class Recipe:
    """One deterministic best-practice step.

    `code` is the body (no indentation) operating on `df` for transform stages, and the whole
    `build_model` source for the model stage. `applies_to` names the columns it touches.
    """

    id: str
    stage: str
    title: str
    rationale: str
    params: dict[str, Any] = field(default_factory=dict)
    code: str = ""
    applies_to: list[str] = field(default_factory=list)

    def comment(self) -> str:
        return f"# {self.title}: {self.rationale}"


def per_column(
    rid: str, title: str, rationale: str, columns: list[str], body: str, *, setup: str = "", **params: Any
) -> Recipe:
    """A recipe whose code runs `body` (indented, reading `col`) once for each of `columns`.

    `setup` lines come before the loop; the stage is the part of `rid` before the dot, and
    `params` are recorded after `columns`."""
    return Recipe(
        rid,
        rid.split(".", 1)[0],
        title,
        rationale,
        {"columns": columns, **params},
        f"{setup}for col in {columns!r}:\n{body}",
        columns,
    )


def entrypoint_for(stage: str) -> str:
    return CONTRACTS[stage][0]


def _indent(block: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line if line.strip() else "" for line in block.splitlines())


def render_transform(stage: str, recipes: list[Recipe], signature: str | None = None) -> str:
    """A complete transform function: copy, one commented block per recipe, return.

    `signature` is the contract's header; a stage without an entry in CONTRACTS (one a module
    registers) passes its own."""
    signature = signature or CONTRACTS[stage][2]
    parts = [HEADER_IMPORTS, "", signature, "    df = df.copy()"]
    for r in recipes:
        parts.append("")
        # Long rationales wrap into several comment lines so the code stays readable.
        parts.append(_indent(_wrap_comment(r.comment())))
        if r.code.strip():
            parts.append(_indent(r.code.strip("\n")))
    parts.append("    return df")
    return "\n".join(parts) + "\n"


def _wrap_comment(text: str, width: int = 100) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width=width, subsequent_indent="#   ")) or "#"
