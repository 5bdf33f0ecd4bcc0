"""Pull Python code out of a model reply: the ONE helper every caller uses.

A small base model's reply is rarely clean: prose around the code, two fences, an unclosed
fence, a function with the wrong name, a body cut off by `max_tokens`, chat end tokens. This
module turns such a reply into code that parses, or into "" when there is none, and never
invents logic: the only additions are a renamed `def` and, for a function cut off mid-body,
a final `return <first argument>` (the result is verified in the sandbox like any other code).
"""

from __future__ import annotations

import ast
import re
import textwrap

# Tokens a Gemma (or other chat) model emits at the end of a turn; everything after is noise.
END_TOKENS = ("<end_of_turn>", "<eos>", "<start_of_turn>", "</s>", "<|endoftext|>", "<|im_end|>")
# Where a scaffold continuation has left the function it was asked to fill.
SCAFFOLD_STOPS = ("\n```", "\ndef ", "\nclass ", "\nif __name__", "\n# Example", "\n# Task", "\n###")

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.S)
# Lines that start a statement at top level (used to find where code begins in prose).
_CODE_START = re.compile(
    r"^(import |from \S+ import |def |class |@|#|[A-Za-z_][A-Za-z0-9_]*(\[.*\])?\s*(=|\+=|-=)|"
    r"[A-Za-z_][A-Za-z0-9_.]*\(|for |if |with |try:|return |print\()"
)


def strip_end_tokens(text: str) -> str:
    """Cut the reply at the first end-of-turn token."""
    cut = len(text)
    for tok in END_TOKENS:
        i = text.find(tok)
        if i != -1:
            cut = min(cut, i)
    return text[:cut]


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return True


def _fenced_blocks(text: str) -> list[str]:
    blocks = []
    for m in _FENCE.finditer(text):
        lang = m.group(1).lower()
        if lang and lang not in ("python", "py", "python3", "pycon", "ipython"):
            continue
        blocks.append(m.group(2))
    return blocks


def _code_from_prose(text: str) -> str:
    """Without fences: drop leading prose lines up to the first line that looks like code."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if _CODE_START.match(line.strip()) and _CODE_START.match(line.lstrip()):
            return "\n".join(lines[i:])
    return text


def _first_arg(fn: ast.FunctionDef) -> str | None:
    args = fn.args.posonlyargs + fn.args.args
    return args[0].arg if args else None


def _close_truncated_function(code: str, entrypoint: str | None) -> str:
    """If the last top-level def lost its tail, add `return <first arg>` so it stays a function."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    if not tree.body or not isinstance(tree.body[-1], ast.FunctionDef):
        return code
    fn = tree.body[-1]
    if entrypoint and fn.name != entrypoint:
        return code
    if any(isinstance(n, ast.Return) for n in ast.walk(fn)):
        return code
    arg = _first_arg(fn)
    if arg is None:
        return code
    body_indent = " " * fn.body[0].col_offset
    return code.rstrip("\n") + f"\n{body_indent}return {arg}\n"


def trim_to_parseable(code: str) -> str:
    """Drop trailing lines until the code parses (a reply cut off by max_tokens)."""
    code = textwrap.dedent(code.strip("\n"))
    if _parses(code):
        return code
    lines = code.splitlines()
    # Prefer cutting at top-level statement boundaries: keeps whole statements only.
    for end in range(len(lines) - 1, 0, -1):
        if lines[end][:1] not in ("", " ", "\t", ")", "]", "}") and _parses("\n".join(lines[:end])):
            candidate = "\n".join(lines[:end])
            # A boundary cut that loses a truncated function entirely is worse than a line cut
            # inside it; only accept it when no def was started after the cut.
            if not any(line.startswith("def ") for line in lines[end:]):
                return candidate
            break
    for end in range(len(lines) - 1, 0, -1):
        candidate = "\n".join(lines[:end])
        if _parses(candidate):
            return candidate
    return ""


def _defined_functions(code: str) -> list[str]:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    return [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]


def _rename_single_def(code: str, entrypoint: str) -> str:
    names = _defined_functions(code)
    if entrypoint in names or len(names) != 1:
        return code
    old = names[0]
    return re.sub(rf"\b{re.escape(old)}\b", entrypoint, code)


def extract_code(reply: str, entrypoint: str | None = None) -> str:
    """The code in a model reply, parseable, with `entrypoint` defined when it can be; "" if none.

    Choice among several fenced blocks: the last block that defines `entrypoint`, else the
    longest block that parses. A lone function with another name is renamed to `entrypoint`.
    """
    text = strip_end_tokens(reply).replace("\r\n", "\n")
    blocks = _fenced_blocks(text)
    if not blocks:
        blocks = [_code_from_prose(text)]
    candidates = [c for c in (trim_to_parseable(b) for b in blocks) if c.strip()]
    if not candidates:
        return ""
    chosen = None
    if entrypoint:
        defining = [c for c in candidates if entrypoint in _defined_functions(c)]
        if defining:
            chosen = defining[-1]
    if chosen is None:
        chosen = max(candidates, key=len)
    if entrypoint:
        chosen = _rename_single_def(chosen, entrypoint)
        chosen = _close_truncated_function(chosen, entrypoint)
    return chosen.strip("\n") + "\n"


def complete_scaffold(prefix: str, continuation: str, entrypoint: str | None = None) -> str:
    """Join a scaffold prefix (imports + `def ...:` + first body lines) and the model's continuation.

    The continuation is cut at the first sign that the model left the function (a new
    top-level line, a fence, another def), then trimmed to parse, and given a final return
    when it was cut mid-body.
    """
    cont = strip_end_tokens(continuation).replace("\r\n", "\n")
    for stop in SCAFFOLD_STOPS:
        i = cont.find(stop)
        if i != -1:
            cont = cont[:i]
    lines = cont.split("\n")
    kept: list[str] = []
    for i, line in enumerate(lines):
        # The first line continues the prefix's last (possibly partial) line; after that a
        # line without indentation means the model has left the function body.
        if i > 0 and line.strip() and not line[:1].isspace():
            break
        kept.append(line)
    body = "\n".join(kept).rstrip()
    code = prefix + body
    code = trim_to_parseable(code) if not _parses(code) else code
    if not code:
        return ""
    names = _defined_functions(code)
    return _close_truncated_function(code, entrypoint or (names[-1] if names else None)).rstrip("\n") + "\n"
