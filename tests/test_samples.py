"""Bundled samples: present, documented, messy as promised, reproducible from their script."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from core.io import load_table
from core.samples import SAMPLES_DIR, list_samples, sample_path


def test_listed_samples_exist_and_have_their_target():
    samples = list_samples()
    assert {s.task for s in samples} == {"classification", "regression"}
    for s in samples:
        t = load_table(s.path)
        assert s.target in t.df.columns
        assert 1_000 <= len(t.df) <= 5_000
        assert s.origin and s.licence and s.description
        assert t.df.isna().any().any()  # missing values
        assert t.df.duplicated().sum() > 0  # duplicate rows
    assert sample_path(samples[0].name) == samples[0].path


def test_unknown_sample_name():
    with pytest.raises(KeyError, match="available"):
        sample_path("nope")


def test_sources_document_every_sample():
    text = (SAMPLES_DIR / "SOURCES.md").read_text(encoding="utf-8")
    for s in list_samples():
        assert s.path.name in text
    assert "Licence" in text or "licence" in text.lower()


def test_make_samples_reproduces_the_files(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location(
        "make_samples", Path(__file__).parent.parent / "scripts" / "make_samples.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    monkeypatch.setattr(mod, "OUT", tmp_path)
    mod.main()
    for s in list_samples():
        assert (tmp_path / s.path.name).read_bytes() == s.path.read_bytes()


def test_money_text_is_really_text():
    df = pd.read_csv(sample_path("gapminder_health"))
    assert df["gdp_per_capita"].dtype == object
    assert df["gdp_per_capita"].dropna().str.contains(r"\$|USD").all()
