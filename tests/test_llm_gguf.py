"""GGUF backend on the real embedded Gemma 3 270M (few tokens per call), plus file checks without it."""

from __future__ import annotations

import pytest

from core.llm.base import BackendError, GenerationParams
from core.llm.gguf import check_gguf_file, describe_file_type
from core.llm.registry import ModelSettings, build_backend, format_prompt

CODE_PROMPT = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):"


@pytest.fixture(scope="module")
def gemma():
    pytest.importorskip("llama_cpp")
    backend = build_backend(ModelSettings(kind="gguf", n_ctx=1024))
    yield backend
    backend.close()


@pytest.mark.real_model
def test_info_comes_from_the_gguf_metadata(gemma):
    info = gemma.info
    assert info.kind == "gguf"
    assert info.quantization == "Q4_K_M"  # general.file_type 15
    assert info.context_size == 1024
    assert info.chat is False  # the embedded model is the base model
    assert "gemma" in info.name.lower()
    assert info.extra["trained context"] == "32768"
    assert gemma.lock is not None  # one llama.cpp context: calls are serialised


@pytest.mark.real_model
def test_greedy_completion_is_repeatable_and_bounded(gemma):
    p = GenerationParams(max_tokens=8, temperature=0.0)
    first = gemma.complete(CODE_PROMPT, p)
    assert first.strip()
    assert first == gemma.complete(CODE_PROMPT, p)
    assert gemma.count_tokens(first) <= 8 + 1  # re-tokenising may merge/split one token


@pytest.mark.real_model
def test_stream_yields_the_same_text_in_pieces(gemma):
    p = GenerationParams(max_tokens=10, temperature=0.0)
    pieces = list(gemma.stream(CODE_PROMPT, p))
    assert len(pieces) > 1
    assert "".join(pieces) == gemma.complete(CODE_PROMPT, p)


@pytest.mark.real_model
def test_stop_sequence_ends_the_answer_before_it(gemma):
    long = gemma.complete(CODE_PROMPT, GenerationParams(max_tokens=24))
    assert "\n\n" in long, long  # the greedy answer continues past the function body
    cut = gemma.complete(CODE_PROMPT, GenerationParams(max_tokens=24, stop=("\n\n",)))
    assert cut == long[: long.index("\n\n")]


@pytest.mark.real_model
def test_seeded_sampling_repeats(gemma):
    p = GenerationParams(max_tokens=8, temperature=0.9, seed=123)
    assert gemma.complete("The city of", p) == gemma.complete("The city of", p)


@pytest.mark.real_model
def test_speed_is_recorded_for_the_sidebar(gemma):
    gemma.complete(CODE_PROMPT, GenerationParams(max_tokens=8))
    s = gemma.stats
    assert s.calls >= 1
    assert s.last_prompt_tokens == gemma.count_tokens(CODE_PROMPT)
    assert s.last_ttft_s is not None and s.last_ttft_s > 0
    assert s.avg_decode_tok_s is not None and s.avg_decode_tok_s > 0
    assert "tok/s" in s.summary()


@pytest.mark.real_model
def test_count_tokens_uses_the_gemma_tokenizer(gemma):
    assert gemma.count_tokens("") == 0
    assert 0 < gemma.count_tokens("hello") <= 2
    assert gemma.count_tokens("hello world " * 20) > gemma.count_tokens("hello world")


@pytest.mark.real_model
def test_prompt_longer_than_context_is_a_clear_error(gemma):
    with pytest.raises(BackendError, match="context"):
        gemma.complete("word " * 3000, GenerationParams(max_tokens=4))


@pytest.mark.real_model
def test_base_model_gets_a_plain_prompt(gemma):
    text = format_prompt(gemma, "Write pandas code.", "def clean(df):")
    assert text == "Write pandas code.\n\ndef clean(df):"


def test_file_checks_give_clear_errors(tmp_path):
    with pytest.raises(BackendError, match="not found"):
        check_gguf_file(tmp_path / "missing.gguf")
    with pytest.raises(BackendError, match="folder"):
        check_gguf_file(tmp_path)
    fake = tmp_path / "model.gguf"
    fake.write_text("not a model", encoding="utf-8")
    with pytest.raises(BackendError, match="not a GGUF file"):
        check_gguf_file(fake)
    with pytest.raises(BackendError, match="not a GGUF file"):
        build_backend(ModelSettings(kind="gguf", model=str(fake)))


def test_truncated_gguf_is_a_clear_error(tmp_path):
    pytest.importorskip("llama_cpp")
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\x03\x00\x00\x00" + b"\x00" * 64)
    with pytest.raises(BackendError, match="could not load"):
        build_backend(ModelSettings(kind="gguf", model=str(broken)))


def test_file_type_names():
    pytest.importorskip("llama_cpp")
    assert describe_file_type("15") == "Q4_K_M"
    assert describe_file_type(7) == "Q8_0"
    assert describe_file_type(None) == "unknown"
    assert describe_file_type("9999") == "file type 9999"


@pytest.mark.real_model
def test_chat_forced_on_uses_the_gguf_template_or_gemma_turns(gemma):
    from core.llm.gguf import GGUFBackend

    inner = gemma.inner
    assert isinstance(inner, GGUFBackend)
    assert inner.render_chat([{"role": "user", "content": "hi"}]) is None  # the base GGUF has no template
    chat_info = type(inner.info)(**{**inner.info.__dict__, "chat": True})
    assert (
        format_prompt(chat_info, "", "hi") == "<start_of_turn>user\nhi<end_of_turn>\n<start_of_turn>model\n"
    )

    # With a template (as -it GGUFs carry), it is rendered and the template's BOS is dropped,
    # because llama.cpp adds BOS itself when it tokenizes the prompt.
    inner.chat_template = (
        "{{ bos_token }}{% for m in messages %}[{{ m['role'] }}]{{ m['content'] }}{% endfor %}"
        "{% if add_generation_prompt %}[model]{% endif %}"
    )
    try:
        text = inner.render_chat([{"role": "system", "content": "S"}, {"role": "user", "content": "U"}])
    finally:
        inner.chat_template = None
    assert text == "[system]S[user]U[model]"
