"""The safety lint on hostile and harmless code: refusals say what and why."""

from __future__ import annotations

import pytest

from core.lint import errors, lint

HARMLESS = """
import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline
from scipy import stats
from collections import Counter


def clean(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    df["x"] = np.log1p(df["price"])
    s = df.to_json()  # no path: returns a string
    return df
"""


def rules(code: str) -> list[str]:
    return [f.rule for f in errors(lint(code))]


def test_harmless_code_passes():
    assert errors(lint(HARMLESS)) == []


@pytest.mark.parametrize(
    "code, rule, words",
    [
        ("import os", "import", "operating-system"),
        ("import subprocess", "import", "running other programs"),
        ("from socket import socket", "import", "network"),
        ("import requests", "import", "network"),
        ("import urllib.request", "import", "network"),
        ("import shutil", "import", "file-system"),
        ("from pathlib import Path", "import", "file-system"),
        ("import pickle", "import", "arbitrary objects"),
        ("import ctypes", "import", "native memory"),
        ("import importlib", "import", "importing"),
        ("import sys", "import", "interpreter"),
        ("import torch", "import", "only these modules"),
        ("from scipy import optimize", "import", "only these modules"),
        ("from . import x", "import", "relative"),
        ("exec('print(1)')", "builtin", "runs arbitrary code"),
        ("eval('1+1')", "builtin", "runs arbitrary code"),
        ("compile('1', 'f', 'eval')", "builtin", "builds arbitrary code"),
        ("__import__('os')", "builtin", "imports"),
        ("open('/etc/passwd')", "builtin", "file access"),
        ("globals()", "builtin", "interpreter"),
        ("breakpoint()", "builtin", "debugger"),
        ("input()", "builtin", "keyboard"),
        ("f = eval", "builtin", "runs arbitrary code"),  # referenced, not called
        ("x = ().__class__.__bases__[0].__subclasses__()", "dunder", "dunder"),
        ("y = f.__globals__", "dunder", "dunder"),
        ("z = __builtins__", "dunder", "interpreter internals"),
        ("getattr(df, '__class__')", "getattr", "dunder"),
        ("getattr(df, '__cl' + 'ass__')", "getattr", "computed"),
        ("df.to_csv('out.csv')", "writer", "write files"),
        ("df.to_parquet('x.parquet')", "writer", "write files"),
        ("df.to_pickle('x.pkl')", "writer", "write files"),
        ("df.to_json('x.json')", "writer", "write files"),
        ("fig.write_html('x.html')", "writer", "write files"),
        ("np.save('x.npy', a)", "writer", "write files"),
        ("pd.read_csv('data.csv')", "reader", "comes in as `df`"),
        ("np.load('x.npy')", "reader", "read files"),
    ],
)
def test_refusals_name_what_and_why(code, rule, words):
    found = errors(lint(code))
    assert found, f"{code!r} was not refused"
    assert found[0].rule == rule
    assert words in found[0].message
    assert found[0].line == 1
    assert found[0].message.startswith("line 1:")


def test_line_numbers_point_at_the_offence():
    code = "import pandas as pd\n\n\ndef clean(df):\n    import os\n    return df\n"
    (f,) = errors(lint(code))
    assert f.line == 5


def test_syntax_error_is_a_finding_not_an_exception():
    (f,) = lint("def clean(df):\n    return (")
    assert f.rule == "syntax"


def test_unknown_columns_are_warnings_with_suggestions():
    code = "df['total'] = df['Price'] * 2\ndf['new'] = 1\nx = df['new']\n"
    findings = lint(code, allowed_columns=["price", "city"])
    assert errors(findings) == []
    warns = [f for f in findings if f.rule == "unknown-column"]
    assert len(warns) == 1 and "'price'" in warns[0].message  # 'new' is created by the code


def test_allowed_submodules():
    assert rules("import sklearn.ensemble\nimport plotly.express as px\nimport scipy.stats") == []
