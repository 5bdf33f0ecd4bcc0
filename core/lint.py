"""AST safety lint for model-written and user-edited code, run before the sandbox sees it.

The sandbox is the real wall (audit hooks, rlimits, no network); the lint is the polite
gate in front of it: it refuses what stage code never needs and tells the user, in one line
each, what was refused and why. It works on the AST, so formatting tricks do not matter.
"""

from __future__ import annotations

import ast
import difflib
from dataclasses import dataclass

# Modules stage code may import (a module or any submodule of one of these).
ALLOWED_MODULES = (
    "pandas",
    "numpy",
    "sklearn",
    "scipy.stats",
    "plotly",
    "math",
    "re",
    "datetime",
    "statistics",
    "collections",
    "itertools",
    "functools",
    "string",
    "typing",
    "warnings",
)
# Why a well-known module is refused, in the user's words.
DANGEROUS_MODULES = {
    "os": "operating-system access (files, environment, processes)",
    "sys": "interpreter internals",
    "subprocess": "running other programs",
    "socket": "network access",
    "shutil": "file-system changes",
    "pathlib": "file-system access",
    "urllib": "network access",
    "requests": "network access",
    "http": "network access",
    "pickle": "loading arbitrary objects from files",
    "joblib": "loading arbitrary objects from files",
    "ctypes": "native memory access",
    "importlib": "importing arbitrary modules",
    "builtins": "interpreter internals",
    "io": "file access",
    "glob": "file-system access",
    "tempfile": "file-system access",
}
FORBIDDEN_CALLS = {
    "exec": "runs arbitrary code",
    "eval": "runs arbitrary code",
    "compile": "builds arbitrary code",
    "__import__": "imports arbitrary modules",
    "open": "file access (the data comes in as `df`)",
    "globals": "interpreter internals",
    "locals": "interpreter internals",
    "vars": "interpreter internals",
    "breakpoint": "starts a debugger",
    "input": "waits for keyboard input",
    "exit": "stops the interpreter",
    "quit": "stops the interpreter",
    "memoryview": "native memory access",
}
# DataFrame / Series / figure methods that write files. Some (to_json, to_html, ...) only
# write when given a path; without one they return a string and are fine.
WRITERS_ALWAYS = {
    "to_csv", "to_parquet", "to_pickle", "to_excel", "to_hdf", "to_sql", "to_feather",
    "to_stata", "to_clipboard", "to_orc", "to_gbq", "write_html", "write_image", "write_json",
    "tofile", "savetxt", "save", "savez", "savez_compressed",
}  # fmt: skip
WRITERS_WITH_PATH = {"to_json", "to_html", "to_latex", "to_markdown", "to_xml", "to_string"}
READERS = {"load", "loadtxt", "genfromtxt", "fromfile", "read_pickle"}  # numpy/pandas readers
ATTR_INDIRECTION = {"getattr", "setattr", "delattr", "hasattr"}


@dataclass(frozen=True)
class Finding:
    rule: str
    line: int
    message: str
    severity: str = "error"  # "error" refuses the code; "warning" is shown but does not


def errors(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == "error"]


def _module_allowed(module: str) -> bool:
    return any(module == m or module.startswith(m + ".") for m in ALLOWED_MODULES)


def _import_finding(module: str, line: int) -> Finding | None:
    if _module_allowed(module):
        return None
    root = module.split(".")[0]
    why = DANGEROUS_MODULES.get(root)
    if why:
        msg = f"line {line}: import of `{module}` refused: {why} is not allowed in stage code"
    else:
        allowed = ", ".join(ALLOWED_MODULES)
        msg = f"line {line}: import of `{module}` refused: only these modules may be imported: {allowed}"
    return Finding("import", line, msg)


class _Linter(ast.NodeVisitor):
    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.stored_keys: set[str] = set()
        self.read_keys: list[tuple[str, int]] = []

    def add(self, rule: str, node: ast.AST, message: str, severity: str = "error") -> None:
        line = getattr(node, "lineno", 0)
        self.findings.append(Finding(rule, line, f"line {line}: {message}", severity))

    # imports --------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            f = _import_finding(alias.name, node.lineno)
            if f:
                self.findings.append(f)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            self.add("import", node, "relative imports are refused: stage code stands alone")
            return
        module = node.module or ""
        if module == "scipy":
            # `from scipy import stats` is the allowed module spelled differently.
            bad = [a.name for a in node.names if a.name != "stats"]
            if bad:
                f = _import_finding(f"scipy.{bad[0]}", node.lineno)
                if f:
                    self.findings.append(f)
            return
        f = _import_finding(module, node.lineno)
        if f:
            self.findings.append(f)

    # names, attributes, calls ------------------------------------------------
    def visit_Name(self, node: ast.Name) -> None:
        if node.id in FORBIDDEN_CALLS:
            self.add("builtin", node, f"`{node.id}` refused: {FORBIDDEN_CALLS[node.id]}")
        elif node.id.startswith("__") and node.id.endswith("__") and node.id != "__name__":
            self.add("dunder", node, f"`{node.id}` refused: interpreter internals are off limits")
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        attr = node.attr
        if attr.startswith("__") and attr.endswith("__"):
            self.add("dunder", node, f"`.{attr}` refused: dunder attributes reach interpreter internals")
        elif attr.startswith("read_") and isinstance(node.value, ast.Name):
            self.add("reader", node, f"`{node.value.id}.{attr}` refused: the data comes in as `df`; "
                     "stage code does not read files")  # fmt: skip
        elif attr in READERS and isinstance(node.value, ast.Name) and node.value.id in ("np", "numpy", "pd"):
            self.add("reader", node, f"`{node.value.id}.{attr}` refused: stage code does not read files")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id in ATTR_INDIRECTION and len(node.args) >= 2:
            name = node.args[1]
            if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
                self.add("getattr", node, f"`{func.id}` with a computed attribute name refused: "
                         "it can reach interpreter internals")  # fmt: skip
            elif name.value.startswith("__"):
                self.add("getattr", node, f"`{func.id}(..., {name.value!r})` refused: dunder attributes "
                         "reach interpreter internals")  # fmt: skip
        if isinstance(func, ast.Attribute):
            if func.attr in WRITERS_ALWAYS:
                self.add("writer", node, f"`.{func.attr}(...)` refused: stage code must not write files; "
                         "return the DataFrame instead")  # fmt: skip
            elif func.attr in WRITERS_WITH_PATH and (
                node.args or any(k.arg in ("path_or_buf", "buf", "path") for k in node.keywords)
            ):
                self.add("writer", node, f"`.{func.attr}(<path>)` refused: stage code must not write files")
        self.generic_visit(node)

    # column references (warnings) ------------------------------------------
    def visit_Subscript(self, node: ast.Subscript) -> None:
        key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            if isinstance(node.ctx, ast.Store):
                self.stored_keys.add(key.value)
            else:
                self.read_keys.append((key.value, node.lineno))
        self.generic_visit(node)


def lint(code: str, allowed_columns: list[str] | None = None) -> list[Finding]:
    """Safety findings for `code`; severity "error" means refused.

    With `allowed_columns`, reads of a column that neither exists nor is created by the code
    are reported as warnings with the closest real names (a hint for the repair prompt).
    """
    try:
        tree = ast.parse(code)
    except SyntaxError as e:
        return [Finding("syntax", e.lineno or 0, f"line {e.lineno}: syntax error: {e.msg}")]
    linter = _Linter()
    linter.visit(tree)
    findings = linter.findings
    if allowed_columns is not None:
        known = set(map(str, allowed_columns)) | linter.stored_keys
        for key, line in linter.read_keys:
            if key not in known:
                close = difflib.get_close_matches(key, [str(c) for c in allowed_columns], n=3)
                hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
                findings.append(
                    Finding(
                        "unknown-column",
                        line,
                        f"line {line}: column {key!r} is not in the data{hint}",
                        "warning",
                    )  # fmt: skip
                )
    return findings
