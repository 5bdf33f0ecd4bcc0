"""extract_code / complete_scaffold on the kinds of replies a small base model really gives."""

from __future__ import annotations

import ast

import pytest

from core.extract import complete_scaffold, extract_code, trim_to_parseable


def defs(code: str) -> list[str]:
    return [n.name for n in ast.parse(code).body if isinstance(n, ast.FunctionDef)]


def test_no_fence_plain_code():
    code = extract_code("def clean(df):\n    return df.dropna()\n", "clean")
    assert defs(code) == ["clean"]


def test_python_fence_with_prose_around():
    reply = "Sure! Here is the code:\n```python\ndef clean(df):\n    return df\n```\nThis removes nothing."
    assert extract_code(reply, "clean") == "def clean(df):\n    return df\n"


def test_two_fences_choose_the_one_defining_the_entrypoint():
    reply = (
        "First an example:\n```python\nimport pandas as pd\nx = 1\n```\n"
        "Then the answer:\n```python\ndef add_features(df):\n    df['a'] = 1\n    return df\n```\n"
    )
    code = extract_code(reply, "add_features")
    assert "def add_features" in code and "x = 1" not in code


def test_two_fences_without_entrypoint_takes_the_longest():
    reply = "```python\na = 1\n```\n```python\nb = 2\nc = 3\nd = 4\n```"
    assert extract_code(reply) == "b = 2\nc = 3\nd = 4\n"


def test_other_language_fence_is_ignored():
    reply = "```bash\nrm -rf /\n```\n```python\ndef clean(df):\n    return df\n```"
    assert "rm -rf" not in extract_code(reply, "clean")


def test_prose_before_unfenced_code():
    reply = "The function below cleans the data.\nimport pandas as pd\ndef clean(df):\n    return df\n"
    code = extract_code(reply, "clean")
    assert code.startswith("import pandas as pd")


def test_truncated_code_is_trimmed_to_what_parses_and_closed_with_a_return():
    reply = "```python\ndef clean(df):\n    df = df.copy()\n    df['a'] = df['a'].fillna(\n"
    code = extract_code(reply, "clean")
    tree = ast.parse(code)
    fn = tree.body[0]
    assert isinstance(fn, ast.FunctionDef) and isinstance(fn.body[-1], ast.Return)
    assert "fillna" not in code


def test_trailing_prose_after_code_is_dropped():
    reply = "def clean(df):\n    return df\nThis code returns the frame unchanged."
    assert extract_code(reply, "clean") == "def clean(df):\n    return df\n"


def test_wrong_function_name_is_renamed_when_it_is_the_only_function():
    reply = "```python\ndef clean_data(df):\n    return clean_data_helper(df)\n```"
    code = extract_code(reply, "clean")
    assert defs(code) == ["clean"]
    # Only the whole word is renamed, never a longer name that contains it.
    assert "clean_data_helper" in code


def test_two_functions_with_other_names_are_not_renamed():
    reply = "def a(df):\n    return df\n\ndef b(df):\n    return a(df)\n"
    assert defs(extract_code(reply, "clean")) == ["a", "b"]


def test_gemma_end_tokens_cut_the_reply():
    reply = "def clean(df):\n    return df\n<end_of_turn>\n<start_of_turn>user\nmore text"
    assert extract_code(reply, "clean") == "def clean(df):\n    return df\n"


def test_unclosed_fence_reads_to_the_end():
    reply = "```python\ndef clean(df):\n    return df\n"
    assert defs(extract_code(reply, "clean")) == ["clean"]


def test_no_code_at_all_gives_empty_string():
    assert extract_code("I cannot help with that.") == ""
    assert extract_code("") == ""


def test_indented_block_is_dedented():
    reply = "    x = 1\n    y = x + 1\n"
    assert extract_code(reply) == "x = 1\ny = x + 1\n"


def test_trim_to_parseable_keeps_whole_statements():
    assert trim_to_parseable("a = 1\nb = (2,\n") == "a = 1"


PREFIX = "import pandas as pd\n\n\ndef clean(df: pd.DataFrame) -> pd.DataFrame:\n    df = df.copy()\n"


def test_complete_scaffold_joins_prefix_and_continuation():
    code = complete_scaffold(PREFIX, "    df = df.dropna()\n    return df\n", "clean")
    assert code == PREFIX + "    df = df.dropna()\n    return df\n"


def test_complete_scaffold_stops_when_the_model_leaves_the_function():
    cont = "    df = df.dropna()\n    return df\n\nprint(clean(pd.DataFrame()))\ndef other():\n    pass\n"
    code = complete_scaffold(PREFIX, cont, "clean")
    assert "print(" not in code and "other" not in code


def test_complete_scaffold_adds_a_return_when_cut_mid_body():
    code = complete_scaffold(PREFIX, "    df['a'] = df['a'] * 2\n    df['b'] = df['b'].map(", "clean")
    assert code.rstrip().endswith("return df")
    assert "map(" not in code
    ast.parse(code)


def test_complete_scaffold_with_fence_and_end_token():
    code = complete_scaffold(PREFIX, "    return df\n```\nExplanation...<end_of_turn>", "clean")
    assert code == PREFIX + "    return df\n"


@pytest.mark.parametrize(
    "reply",
    [
        "```\ndef clean(df):\n    return df\n```",  # fence without a language
        "```py\ndef clean(df):\n    return df\n```",
        "Answer:\n\n```python\r\ndef clean(df):\r\n    return df\r\n```",  # CRLF
    ],
)
def test_fence_variants(reply):
    assert defs(extract_code(reply, "clean")) == ["clean"]
