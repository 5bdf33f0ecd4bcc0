"""Loader tests: every format and every bad file of the corpus (tests/corpus/make_corpus.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.io import LoadError, load_code, load_table, sniff, tidy_names
from core.models import DatasetRef, LoadOptions
from core.profile import profile_dataframe

sys.path.insert(0, str(Path(__file__).parent / "corpus"))
from make_corpus import make_corpus  # noqa: E402


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    return make_corpus(tmp_path_factory.mktemp("corpus"))


def _exec_load_code(table, path: Path) -> pd.DataFrame:
    ref = DatasetRef(
        filename=path.name,
        raw_path=str(path),
        sha256="x",
        size_bytes=path.stat().st_size,
        options=table.options,
    )
    ns: dict = {}
    exec(load_code(ref, str(path)), ns)  # noqa: S102 - our own rendered code
    return ns["df"]


# ------------------------------------------------------------------ good files in every format
@pytest.mark.parametrize(
    "name, fmt, delimiter, encoding",
    [
        ("plain.csv", "csv", ",", "utf-8"),
        ("tab.tsv", "csv", "\t", "utf-8"),
        ("pipe.txt", "csv", "|", "utf-8"),
        ("utf8_bom.csv", "csv", ",", "utf-8-sig"),
        ("utf16.csv", "csv", ",", "utf-16"),
        ("preamble.csv", "csv", ",", "utf-8"),
    ],
)
def test_text_tables_sniffed_and_loaded(corpus, name, fmt, delimiter, encoding):
    o = sniff(corpus[name])
    assert (o.format, o.delimiter, o.encoding) == (fmt, delimiter, encoding)
    t = load_table(corpus[name])
    assert list(t.df.columns) == ["id", "name", "age", "salary", "joined"]
    assert t.df.shape == (5, 5)
    assert t.df["id"].tolist() == [1, 2, 3, 4, 5]
    assert t.df["salary"].dtype == np.float64 and t.df["salary"].iloc[1] == 61000.25
    assert t.df["name"].iloc[2] == "Chloé"
    assert t.n_rows_total == 5 and not t.sampled
    pd.testing.assert_frame_equal(_exec_load_code(t, corpus[name]), t.df)


def test_preamble_lines_are_skipped(corpus):
    assert sniff(corpus["preamble.csv"]).skip_rows == 3


def test_semicolon_with_decimal_comma_and_thousands_dot(corpus):
    o = sniff(corpus["semicolon_decimal_comma.csv"])
    assert (o.delimiter, o.decimal, o.thousands) == (";", ",", ".")
    t = load_table(corpus["semicolon_decimal_comma.csv"])
    assert t.df["amount"].tolist() == [1234.5, 12000.0, 999.99, 2500.1]
    assert t.df["rate"].tolist() == [0.25, 0.5, 1.75, 3.0]
    assert t.df["name"].tolist()[0] == "Müller"
    pd.testing.assert_frame_equal(_exec_load_code(t, corpus["semicolon_decimal_comma.csv"]), t.df)


@pytest.mark.parametrize("name, expected", [("latin1.csv", "Montréal"), ("cp1252.csv", "“quoted” – dash")])
def test_legacy_encodings(corpus, name, expected):
    o = sniff(corpus[name])
    assert o.encoding in ("cp1252", "latin-1")
    t = load_table(corpus[name])
    assert expected in t.df.iloc[:, 1:].astype(str).to_numpy().ravel().tolist()


def test_no_header_row_gets_positional_names(corpus):
    t = load_table(corpus["no_header.csv"])
    assert t.options.header_row is None
    assert list(t.df.columns) == ["column_1", "column_2"]
    assert t.df.shape == (3, 2)
    assert t.df.iloc[0].tolist() == [34, 52000.5]
    assert any("No header" in w for w in t.warnings)
    pd.testing.assert_frame_equal(_exec_load_code(t, corpus["no_header.csv"]), t.df)


def test_parquet(corpus):
    assert sniff(corpus["table.parquet"]).format == "parquet"
    t = load_table(corpus["table.parquet"])
    assert t.df.shape == (5, 5) and t.df["age"].dtype == np.float64
    pd.testing.assert_frame_equal(_exec_load_code(t, corpus["table.parquet"]), t.df)


@pytest.mark.parametrize("name", ["records.json", "wrapped.json"])
def test_json_records_and_wrapped_records(corpus, name):
    o = sniff(corpus[name])
    assert o.format == "json"
    t = load_table(corpus[name])
    assert t.df.shape == (5, 5) and t.df["name"].tolist()[:2] == ["Alice", "Bob"]
    pd.testing.assert_frame_equal(_exec_load_code(t, corpus[name]), t.df)


def test_jsonl_nested_fields_are_flattened(corpus):
    assert sniff(corpus["lines.jsonl"]).format == "jsonl"
    t = load_table(corpus["lines.jsonl"])
    assert list(t.df.columns) == ["id", "name", "x.a"]
    assert t.df["id"].tolist() == [1, 2, 3, 4, 5]
    pd.testing.assert_frame_equal(_exec_load_code(t, corpus["lines.jsonl"]), t.df)


def test_multi_sheet_xlsx_lists_sheets_and_loads_the_chosen_one(corpus):
    path = corpus["multi_sheet.xlsx"]
    t = load_table(path)
    assert t.sheets == ["people", "lookup", "notes"]
    assert t.options.sheet == "people" and t.df.shape == (5, 5)
    assert any("3 sheets" in w for w in t.warnings)
    t2 = load_table(path, LoadOptions(format="excel", sheet="lookup"))
    assert t2.df.to_dict("list") == {"k": ["a", "b"], "v": [1, 2]}
    pd.testing.assert_frame_equal(_exec_load_code(t2, path), t2.df)
    with pytest.raises(LoadError, match="no sheet named 'nope'.*people, lookup, notes"):
        load_table(path, LoadOptions(format="excel", sheet="nope"))


def test_wrong_extension_is_read_by_content(corpus):
    o = sniff(corpus["really_excel.csv"])
    assert o.format == "excel"
    assert load_table(corpus["really_excel.csv"]).df.shape == (5, 5)


# ------------------------------------------------------------------ bad files
@pytest.mark.parametrize(
    "name, message",
    [
        ("empty.csv", "empty"),
        ("blank.csv", "only blank space"),
        ("header_only.csv", "no data rows"),
        ("binary.csv", "binary"),
        ("image.png", "binary"),
        ("archive.csv", "zip archive"),
        ("old_excel.xls", "save it as .xlsx"),
        ("bad.json", "not valid JSON"),
        ("scalar.json", "not a table"),
    ],
)
def test_bad_files_raise_a_clear_load_error(corpus, name, message):
    with pytest.raises(LoadError, match=message) as e:
        load_table(corpus[name])
    assert corpus[name].name in str(e.value)  # the message names the file


def test_ragged_rows_keep_every_value_with_a_warning(corpus):
    t = load_table(corpus["ragged_long.csv"])
    assert list(t.df.columns) == ["a", "b", "c", "column_4"]
    assert t.df["column_4"].tolist()[1] == 7
    assert t.df.shape == (4, 4)
    assert any("Ragged rows" in w and "fewer fields" in w for w in t.warnings)
    pd.testing.assert_frame_equal(_exec_load_code(t, corpus["ragged_long.csv"]), t.df)


def test_first_row_wider_than_header_is_not_turned_into_an_index(corpus):
    t = load_table(corpus["ragged_first_wide.csv"])
    assert isinstance(t.df.index, pd.RangeIndex)
    assert list(t.df.columns) == ["a", "b", "column_3"]
    assert t.df["a"].tolist() == [1, 4] and t.df["b"].tolist() == [2, 5]
    assert t.df["column_3"].iloc[0] == 3 and np.isnan(t.df["column_3"].iloc[1])
    pd.testing.assert_frame_equal(_exec_load_code(t, corpus["ragged_first_wide.csv"]), t.df)


def test_duplicate_and_blank_names_are_made_unique(corpus):
    t = load_table(corpus["dup_blank_names.csv"])
    assert list(t.df.columns) == ["id", "value", "value_2", "column_4", "name", "value_3"]
    assert t.df["value_2"].tolist() == [3, 8]
    joined = " ".join(t.warnings)
    assert "column_4" in joined and "value_2" in joined and "Spaces" in joined
    pd.testing.assert_frame_equal(_exec_load_code(t, corpus["dup_blank_names.csv"]), t.df)


def test_tidy_names_rules():
    names, warnings = tidy_names(["a", "Unnamed: 1", "a", " b ", None, "column_2"])
    assert names == ["a", "column_2", "a_2", "b", "column_5", "column_2_2"]
    assert len(warnings) == 3  # blank, duplicates, spaces


def test_single_column_loads_with_a_warning(corpus):
    t = load_table(corpus["single_column.csv"])
    assert t.df.shape == (3, 1)
    assert any("one column" in w for w in t.warnings)


def test_single_column_hint_names_the_real_delimiter(tmp_path):
    p = tmp_path / "semi.csv"
    p.write_text("a;b\n1;2\n3;4\n")
    t = load_table(p, LoadOptions(format="csv", delimiter=","))
    assert t.df.shape[1] == 1 and any("';'" in w for w in t.warnings)


def test_two_thousand_columns(corpus):
    t = load_table(corpus["wide_2000.csv"])
    assert t.df.shape == (5, 2000)
    assert t.df["f1999"].iloc[4] == 4 * 1999
    assert any("2,000 columns" in w for w in t.warnings)


def test_giant_cell_is_refused_quickly(tmp_path):
    """A 200 MB cell: refused with advice, without parsing the file into pandas."""
    import time

    p = tmp_path / "giant_cell.csv"
    with p.open("w") as f:
        f.write('id,text\n1,short\n2,"')
        chunk = "x" * (1024 * 1024)
        for _ in range(200):
            f.write(chunk)
        f.write('"\n3,ok\n')
    t0 = time.perf_counter()
    with pytest.raises(LoadError, match="line 3 .*huge value"):
        load_table(p)
    assert time.perf_counter() - t0 < 10


def test_max_line_bytes_is_a_parameter(tmp_path):
    p = tmp_path / "long.csv"
    p.write_text("a,b\n1," + "y" * 5000 + "\n")
    with pytest.raises(LoadError):
        load_table(p, max_line_bytes=1000)
    assert load_table(p).df.shape == (1, 2)


def test_missing_file(tmp_path):
    with pytest.raises(LoadError, match="not found"):
        load_table(tmp_path / "nope.csv")


# ------------------------------------------------------------------ large files
def _big_frame(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        {
            "x": rng.normal(size=n).round(4),
            "k": rng.choice(["red", "green", "blue"], n),
            "n": rng.integers(0, 50, n),
            "d": pd.date_range("2020-01-01", periods=n, freq="min").strftime("%Y-%m-%d %H:%M"),
        }
    )


def test_large_csv_is_sampled_with_duckdb_and_types_match_a_full_load(tmp_path):
    df = _big_frame(40_000)
    p = tmp_path / "big.csv"
    df.to_csv(p, index=False, sep=";", decimal=",")
    t = load_table(p, large_bytes=100_000, sample_rows=2_000)
    assert t.sampled and t.n_rows_total == 40_000 and len(t.df) == 2_000
    full = pd.read_csv(p, sep=";", decimal=",")
    assert t.df.dtypes.to_dict() == full.dtypes.to_dict()
    # A sample, not the head: rows come from all over the file.
    assert t.df["d"].max() > full["d"].iloc[30_000]
    assert any("40,000 rows" in w and "sample" in w for w in t.warnings)
    # The notebook code reproduces the full data.
    ref = DatasetRef(filename="big.csv", raw_path=str(p), sha256="x", size_bytes=1, options=t.options)
    ns: dict = {}
    exec(load_code(ref, str(p)), ns)  # noqa: S102
    pd.testing.assert_frame_equal(ns["df"], full)


def test_large_parquet_is_sampled(tmp_path):
    p = tmp_path / "big.parquet"
    _big_frame(30_000).to_parquet(p)
    t = load_table(p, large_bytes=10_000, sample_rows=1_000)
    assert t.sampled and t.n_rows_total == 30_000 and len(t.df) == 1_000
    assert list(t.df.columns) == ["x", "k", "n", "d"]


def test_large_jsonl_takes_the_first_rows(tmp_path):
    p = tmp_path / "big.jsonl"
    _big_frame(5_000).to_json(p, orient="records", lines=True)
    t = load_table(p, large_bytes=10_000, sample_rows=500)
    assert t.sampled and t.n_rows_total == 5_000 and len(t.df) == 500


def test_max_rows_limits_a_small_file(corpus):
    t = load_table(corpus["plain.csv"], max_rows=2)
    assert len(t.df) == 2 and t.sampled and t.n_rows_total is None


def test_not_utf8_after_the_sniff_window_falls_back(tmp_path):
    p = tmp_path / "late_latin.csv"
    body = "a,b\n" + "".join(f"{i},plain\n" for i in range(1_000_000))  # > the 8 MB sniff window
    p.write_bytes(body.encode() + "9,caf\xe9\n".encode("latin-1"))
    assert sniff(p).encoding == "utf-8"  # the sniff window saw only ASCII
    t = load_table(p)
    assert t.df["b"].iloc[-1] == "café" and t.options.encoding == "cp1252"
    assert any("Windows-1252" in w for w in t.warnings)


def test_bracketed_csv_header_is_not_json(tmp_path):
    p = tmp_path / "brackets.csv"
    p.write_text("[id],[name]\n1,a\n2,b\n")
    assert sniff(p).format == "csv"
    assert list(load_table(p).df.columns) == ["[id]", "[name]"]


@pytest.mark.parametrize("giant_line", [1, 2, 5])
def test_giant_line_is_located_across_chunks(tmp_path, giant_line):
    from core.io.load_csv import check_line_lengths

    p = tmp_path / "g.csv"
    lines = ["a,b"] + [f"{i},x" for i in range(1, 6)]
    lines[giant_line] = "9," + "y" * 3000
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(LoadError, match=f"line {giant_line + 1} "):
        check_line_lengths(p, 2000)
    check_line_lengths(p, 5000)  # under the limit: no error


def test_large_single_json_document_is_refused_with_advice(tmp_path):
    p = tmp_path / "big.json"
    _big_frame(3_000).to_json(p, orient="records")
    with pytest.raises(LoadError, match="JSON Lines"):
        load_table(p, large_bytes=10_000)
    assert load_table(p).df.shape == (3_000, 4)  # under the threshold it loads


def test_list_and_object_cells_become_json_text(tmp_path):
    # JSON Lines with a list field and an object holding a list; Parquet with list / struct columns.
    rows = [{"tags": ["a", "b"][: i % 3], "meta": {"k": [i]}, "x": i, "y": "ab"[i % 2]} for i in range(30)]
    jl = tmp_path / "nested.jsonl"
    jl.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    pq = tmp_path / "nested.parquet"
    frame = pd.DataFrame({"tags": [r["tags"] for r in rows], "s": [{"a": i} for i in range(30)]})
    frame["x"] = range(30)
    frame.to_parquet(pq)
    for path in (jl, pq):
        t = load_table(path)
        assert any("lists or objects" in w for w in t.warnings)
        assert t.df["tags"].iloc[2] == '["a", "b"]' and t.df["tags"].iloc[0] == "[]"
        assert all(not isinstance(v, (list, dict, np.ndarray)) for c in t.df for v in t.df[c])
        pd.testing.assert_frame_equal(_exec_load_code(t, path), t.df)
        profile_dataframe(t.df)  # used to fail: unhashable list cells


def test_excel_default_is_the_table_sheet_below_its_title(tmp_path):
    # A cover sheet first; the table's sheet has a title and a blank row above its header.
    path = tmp_path / "report.xlsx"
    table = pd.DataFrame({"city": ["Paris", "Lyon", "Nice"] * 4, "price": np.arange(12) * 1.5})
    table["n"] = range(12)
    with pd.ExcelWriter(path) as w:
        pd.DataFrame({"a": ["notes"]}).to_excel(w, sheet_name="About", index=False, header=False)
        table.to_excel(w, sheet_name="Data", index=False, startrow=2)
        w.sheets["Data"]["A1"] = "Sales report 2024"
    o = sniff(path)
    assert (o.sheet, o.skip_rows) == ("Data", 2)
    t = load_table(path)
    pd.testing.assert_frame_equal(t.df, table)
    pd.testing.assert_frame_equal(_exec_load_code(t, path), t.df)
    assert any("above the header" in w for w in t.warnings)


# ------------------------------------------------------------------ long cells (issue 18)
def _long_cell_csv(path: Path, cell_chars: int, delimiter: str = ",") -> str:
    """A valid CSV whose third row holds one quoted cell of `cell_chars` characters (commas,
    quotes and newlines inside, as a pasted document would have)."""
    unit = 'word, "quoted"\nline '
    cell = (unit * (cell_chars // len(unit) + 1))[:cell_chars]
    quoted = '"' + cell.replace('"', '""') + '"'
    d = delimiter
    path.write_text(
        f"id{d}text{d}n\n1{d}short{d}10\n2{d}{quoted}{d}20\n3{d}ok{d}30\n", encoding="utf-8", newline=""
    )
    return cell


@pytest.mark.parametrize("cell_chars", [200_000, 300_000])  # inside and beyond the sniff window
def test_a_cell_longer_than_the_csv_module_default_is_read_whole(tmp_path, cell_chars):
    p = tmp_path / "long_cell.csv"
    cell = _long_cell_csv(p, cell_chars)
    o = sniff(p)
    assert (o.format, o.delimiter, o.header_row) == ("csv", ",", 0)
    t = load_table(p)
    assert list(t.df.columns) == ["id", "text", "n"]
    assert t.df["n"].tolist() == [10, 20, 30]
    assert t.df["text"].iloc[1] == cell  # whole, not cut
    pd.testing.assert_frame_equal(_exec_load_code(t, p), t.df)


def test_long_cell_in_a_large_file_goes_through_duckdb(tmp_path):
    # 3 MB: over DuckDB's own 2 MB default line limit too.
    p = tmp_path / "long_cell_big.csv"
    cell = _long_cell_csv(p, 3_000_000, delimiter=";")
    t = load_table(p, large_bytes=1_000, sample_rows=10)
    assert t.n_rows_total == 3 and set(t.df["n"]) == {10, 20, 30}
    assert t.df.loc[t.df["n"] == 20, "text"].iloc[0] == cell


def test_preview_shortens_long_cells_and_says_so():
    from core.io import preview_frame

    df = pd.DataFrame({"id": [1, 2, 3], "text": ["a", "x" * 200_000, None], "y": ["b" * 5000, "c", "d"]})
    view, note = preview_frame(df, max_chars=1000)
    assert view["text"].iloc[1] == "x" * 1000 + "…" and view["y"].iloc[0] == "b" * 1000 + "…"
    assert view["text"].iloc[0] == "a" and pd.isna(view["text"].iloc[2]) and view["id"].tolist() == [1, 2, 3]
    assert note is not None and "2 cell(s)" in note and "200,000" in note and "'text'" in note
    assert len(df["text"].iloc[1]) == 200_000  # the data itself is untouched
    same, none = preview_frame(df.drop(columns=["text", "y"]))
    assert none is None and same is not None and same.shape == (3, 1)
