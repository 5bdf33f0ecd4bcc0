"""GGUF backend on the real embedded Gemma 3 270M (few tokens per call), plus file checks without it."""

from __future__ import annotations

import os

import pytest

from core.llm.base import BackendError, GenerationParams
from core.llm.gguf import check_gguf_file, describe_file_type
from core.llm.registry import ModelSettings, build_backend, build_local, format_prompt

CODE_PROMPT = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):"


@pytest.fixture(scope="module")
def gemma():
    pytest.importorskip("llama_cpp")
    # The base file's own behaviour (the adapter, applied by default, has its own tests).
    backend = build_backend(ModelSettings(kind="gguf", n_ctx=1024, adapter=False))
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
def test_a_shared_prompt_prefix_is_not_evaluated_again_and_answers_stay_the_same():
    """Prompts about one table share its description: the cached part is reused, in whole batches,
    and every answer is the one the prompt gets on its own (after an unrelated prompt)."""
    pytest.importorskip("llama_cpp")
    from core.llm.gguf import GGUFBackend
    from core.llm.paths import default_gguf_path

    # Small batches so that a short prefix spans several (the app's batches are larger).
    be = GGUFBackend(default_gguf_path(), n_ctx=1024, n_batch=64)
    try:
        head = "".join(f"# column c{i}: numeric, {i}% missing, range 0..{i * 7}\n" for i in range(12))
        prompts = [head + f"def {name}(df):\n" for name in ("clean", "add_features", "fill", "drop_rare")]
        p = GenerationParams(max_tokens=10, temperature=0.0)
        alone = []
        for prompt in prompts:
            be.complete("Hello", GenerationParams(max_tokens=1))  # shares nothing: a fresh start
            alone.append(be.complete(prompt, p))
        assert be.reused_tokens == 0
        shared = [be.complete(prompt, p) for prompt in reversed(prompts)][::-1]
        assert shared == alone
        block = be.llm.n_batch
        assert be.count_tokens(head) > 2 * block  # the test needs a prefix of whole batches
        assert be.reused_tokens >= 3 * 2 * block and be.reused_tokens % block == 0
    finally:
        be.close()


@pytest.mark.real_model
def test_prompts_are_evaluated_on_every_core_and_decoded_on_half(monkeypatch):
    """Prompt batches use all usable cores, decoding half of them (threads that wait for each
    other at every token); threads the operator names are used for both."""
    pytest.importorskip("llama_cpp")
    from core.llm import gguf
    from core.llm.paths import default_gguf_path

    monkeypatch.setattr(gguf.os, "sched_getaffinity", lambda _pid: {0, 1, 2, 3}, raising=False)
    be = gguf.GGUFBackend(default_gguf_path(), n_ctx=1024)
    try:
        assert (be.llm.n_threads, be.llm.n_threads_batch) == (2, 4)
        assert be.llm.n_batch == min(gguf.PREFIX_BLOCK, 1024) and gguf.PREFIX_BLOCK >= 256
        assert be.info.extra["threads"] == "2 (prompt: 4)"
    finally:
        be.close()
    be = gguf.GGUFBackend(default_gguf_path(), n_ctx=1024, n_threads=1)
    try:
        assert (be.llm.n_threads, be.llm.n_threads_batch) == (1, 1)
        assert be.info.extra["threads"] == "1"
    finally:
        be.close()


@pytest.mark.real_model
def test_greedy_decoding_under_a_grammar_writes_what_the_full_grammar_chain_writes():
    """The grammar is asked about the greedy token first and about every token only when it
    refuses that one: the text must be exactly what llama-cpp-python's chain (grammar over the
    whole vocabulary, then greedy) writes, refusals included, with fewer full checks than tokens."""
    pytest.importorskip("llama_cpp")
    import llama_cpp

    from core.engine.grammar import code_grammar
    from core.llm import gguf
    from core.llm.paths import default_gguf_path

    table = (
        "# columns: Miles_per_Gallon (numeric), Horsepower (numeric), Weight_in_lbs (numeric), "
        "Origin (category)\n"
    )
    prompts = [  # the model's own guesses at the names are wrong: the grammar must step in
        table + "def add_features(df):\n    # power per weight\n    df['power_weight'] = df['",
        table + "def clean(df):\n    # fill missing mpg with the median\n",
        "The answer is yes or no. Is the sky green? Answer:",
    ]
    grammars = [
        code_grammar(
            ["Miles_per_Gallon", "Horsepower", "Weight_in_lbs", "Origin"], ["USA"], new_columns=True
        ),
        code_grammar(["Miles_per_Gallon", "Horsepower", "Weight_in_lbs", "Origin"], [], new_columns=False),
        gguf.options_grammar(("maybe not", "no", "yes")),
    ]
    ours = gguf.GGUFBackend(default_gguf_path(), n_ctx=1024)
    chain = llama_cpp.Llama(
        model_path=str(default_gguf_path()), n_ctx=1024, n_threads=ours.llm.n_threads,
        n_threads_batch=ours.llm.n_threads_batch, n_batch=ours.llm.n_batch, verbose=False,
    )  # fmt: skip
    try:
        tokens = full = 0
        for prompt, grammar in zip(prompts, grammars, strict=True):
            p = GenerationParams(max_tokens=24, temperature=0.0, grammar=grammar)
            mine = ours.complete(prompt, p)
            sampler = ours.llm.last_grammar_sampler
            tokens, full = tokens + sampler.tokens, full + sampler.full_checks
            chain.reset()
            theirs = chain.create_completion(
                prompt, max_tokens=24, temperature=0.0, grammar=llama_cpp.LlamaGrammar.from_string(grammar)
            )["choices"][0]["text"]
            assert mine == theirs, (prompt, mine, theirs)
        assert full >= 1  # the grammar did refuse a greedy token somewhere (else nothing was tested)
        assert full < tokens / 2
    finally:
        ours.close()
        chain.close()


@pytest.mark.real_model
def test_without_the_grammar_first_sampler_llama_cpps_own_chain_still_constrains(monkeypatch):
    """Another llama-cpp-python whose internals the grammar-first sampler cannot use: generation
    falls back to llama.cpp's chain, still under the grammar."""
    pytest.importorskip("llama_cpp")
    from core.llm import gguf
    from core.llm.paths import default_gguf_path

    class Unusable:
        def __init__(self, *_a: object) -> None:
            raise AttributeError("no _model.vocab here")

    monkeypatch.setattr(gguf, "GreedyUnderGrammar", Unusable)
    be = gguf.GGUFBackend(default_gguf_path(), n_ctx=1024)
    try:
        options = ("maybe not", "no", "yes")
        p = GenerationParams(max_tokens=8, temperature=0.0, grammar=gguf.options_grammar(options))
        assert be.complete("Is the sky green? Answer yes or no:", p).strip() in options
        assert not hasattr(be.llm, "last_grammar_sampler")
    finally:
        be.close()


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
def test_the_app_path_runs_the_model_in_its_own_process(gemma):
    from core.llm.process import ProcessBackend

    assert isinstance(gemma.inner, ProcessBackend)
    assert gemma.inner.pid != os.getpid()
    assert gemma.info.extra["model process"].startswith(f"pid {gemma.inner.pid}")


@pytest.mark.real_model
def test_choose_is_always_one_of_the_options(gemma):
    prompt = "Q: Is Paris the capital of France? Answer yes or no.\nA:"
    assert gemma.choose(prompt, ["yes", "no"]) in ("yes", "no")
    columns = ["price", "city", "order_date"]
    answer = gemma.choose("The column holding the date of each order is named", columns)
    assert answer in columns
    assert gemma.choose("anything", ["only"]) == "only"
    with pytest.raises(BackendError, match="at least one option"):
        gemma.choose("anything", [])


@pytest.mark.real_model
def test_grammar_decoding_never_leaves_the_options():
    # In process, greedy and sampled: the grammar itself, not the mapping afterwards, keeps the answer.
    from core.llm import gguf

    backend = build_local(ModelSettings(kind="gguf", n_ctx=512, adapter=False))
    try:
        options = ["drop_duplicates", "fill_median", "keep"]
        for prompt in ("def clean(df):\n    # step:", "The weather today is", "1 2 3 4"):
            out = backend.llm.create_completion(
                prompt, max_tokens=24, temperature=0.0, grammar=gguf._compiled_grammar(tuple(options))
            )
            assert out["choices"][0]["text"].strip() in options
    finally:
        backend.close()


@pytest.mark.real_model
def test_chat_forced_on_uses_the_gguf_template_or_gemma_turns():
    from core.llm.gguf import GGUFBackend

    inner = build_local(ModelSettings(kind="gguf", n_ctx=512, adapter=False))
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
        inner.close()
    assert text == "[system]S[user]U[model]"


def write_lora(path, scale: float, layers: int = 4, rank: int = 4):
    """A GGUF LoRA for the embedded Gemma 3 270M, written here (the tuning step writes the real one)."""
    gguf = pytest.importorskip("gguf")
    import numpy as np

    rng = np.random.default_rng(0)
    w = gguf.GGUFWriter(str(path), "gemma3")
    w.add_string("general.type", "adapter")
    w.add_string("adapter.type", "lora")
    w.add_float32("adapter.lora.alpha", float(rank))
    for i in range(layers):
        # attn_q maps 640 -> 1024 features; lora_a is (rank x 640), lora_b (1024 x rank) in numpy order.
        w.add_tensor(f"blk.{i}.attn_q.weight.lora_a", (rng.standard_normal((rank, 640)) * scale).astype("f4"))
        w.add_tensor(
            f"blk.{i}.attn_q.weight.lora_b", (rng.standard_normal((1024, rank)) * scale).astype("f4")
        )
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


@pytest.mark.real_model
def test_adapter_is_applied_through_the_app_path_and_can_be_switched_off(tmp_path, monkeypatch):
    pytest.importorskip("llama_cpp")
    monkeypatch.setenv("GEMMA_WIZARD_ADAPTER_PATH", str(write_lora(tmp_path / "wizard.lora.gguf", 0.5)))
    p = GenerationParams(max_tokens=12)
    plain = build_backend(ModelSettings(n_ctx=512, adapter=False))
    tuned = build_backend(ModelSettings(n_ctx=512))
    try:
        assert plain.info.tuned is False and "adapter" not in plain.info.extra
        assert tuned.info.tuned is True
        assert tuned.info.extra["adapter"] == "wizard.lora.gguf"
        # A strong random adapter must change the greedy answer: proof the weights are in use.
        assert tuned.complete(CODE_PROMPT, p) != plain.complete(CODE_PROMPT, p)
    finally:
        plain.close()
        tuned.close()
    monkeypatch.setenv("GEMMA_WIZARD_ADAPTER", "off")
    off = build_backend(ModelSettings(n_ctx=512))
    try:
        assert off.info.tuned is False
    finally:
        off.close()


def test_no_adapter_for_other_models_and_a_broken_adapter_is_reported(tmp_path, monkeypatch):
    pytest.importorskip("llama_cpp")
    from core.llm import paths

    assert paths.is_embedded_model(None) and not paths.is_embedded_model(tmp_path / "gemma-2-9b-it.gguf")
    bad = tmp_path / "bad.lora.gguf"
    bad.write_bytes(b"GGUF" + b"\x00" * 32)
    monkeypatch.setenv("GEMMA_WIZARD_ADAPTER_PATH", str(bad))
    assert paths.adapter_path() == bad
    monkeypatch.setenv("GEMMA_WIZARD_ADAPTER", "off")
    assert paths.adapter_path() is None


@pytest.mark.real_model
@pytest.mark.parametrize(
    "content",
    [
        b"not a gguf file at all" * 8,  # e.g. an interrupted download
        # A GGUF header with nothing in it: llama-cpp-python 0.3.36 alone would call this applied.
        b"GGUF" + b"\x03\x00\x00\x00" + b"\x00" * 64,
    ],
)
def test_a_broken_adapter_file_leaves_the_base_model_running(tmp_path, monkeypatch, content):
    pytest.importorskip("llama_cpp")
    bad = tmp_path / "bad.lora.gguf"
    bad.write_bytes(content)
    monkeypatch.setenv("GEMMA_WIZARD_ADAPTER_PATH", str(bad))
    backend = build_local(ModelSettings(kind="gguf", n_ctx=512))
    try:
        assert backend.info.tuned is False
        assert backend.info.extra["adapter"].startswith("not applied (bad.lora.gguf")
        assert backend.complete(CODE_PROMPT, GenerationParams(max_tokens=4)).strip()
    finally:
        backend.close()


def test_options_grammar_escapes_and_compiles():
    pytest.importorskip("llama_cpp")
    from core.llm.gguf import _compiled_grammar, options_grammar

    options = ('say "hi"', "a\\b", "naïve", "two\nlines")
    assert options_grammar(options) == (
        'root ::= " "? ("say \\"hi\\"" | "a\\\\b" | "naïve" | "two\\nlines")\n'
    )
    assert _compiled_grammar(options) is not None  # llama.cpp parsed it


def test_grammar_first_leaves_other_sampling_and_other_llama_cpp_pythons_alone():
    from core.llm import gguf

    class Old:  # a llama-cpp-python without the hook: nothing is replaced
        pass

    old = Old()
    assert gguf.grammar_first(old) is old and not hasattr(old, "_init_sampler")

    calls = []

    class Llm:
        def _init_sampler(self, **kw):
            calls.append(kw)
            return "chain"

    llm = gguf.grammar_first(Llm())
    assert llm._init_sampler(temp=0.0, grammar=None) == "chain"  # no grammar: llama.cpp's own
    assert llm._init_sampler(temp=0.7, grammar="g") == "chain"  # sampling, not greedy: its own
    assert llm._init_sampler(temp=0.0, grammar="g", repeat_penalty=1.1) == "chain"
    assert len(calls) == 3
