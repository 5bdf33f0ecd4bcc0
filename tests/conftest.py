"""Shared fixtures. Tests never need the network, a GPU or a big model."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Nothing in a test may reach a model hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture
def fake_backend():
    from core.llm.fake import FakeBackend

    return FakeBackend()


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    """One local sandbox per test module: its worker takes a while to start, its jobs are
    independent (each gets nothing from the last)."""
    from core.sandbox.local import LocalSandbox

    sb = LocalSandbox(tmp_path_factory.mktemp("ws"))
    yield sb
    sb.close()
