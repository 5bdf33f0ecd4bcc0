"""transformers backend on a tiny randomly initialised Gemma 3 built here (no download, CPU).

One real_model test de-quantizes the embedded GGUF through transformers and checks that the
converted copy is cached and reused.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from core.llm.base import BackendError, GenerationParams  # noqa: E402
from core.llm.registry import ModelSettings, build_backend, format_prompt  # noqa: E402
from core.llm.transformers_backend import TransformersBackend  # noqa: E402

WORDS = (
    "def clean df return import pandas as pd numpy np column value missing fill drop city price "
    "the a of to and is in for with on"
).split()
# A minimal Gemma-like chat template (Gemma folds the system text into the first user turn).
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'system' %}{{ m['content'] }}\n"
    "{% else %}<start_of_turn>{{ 'model' if m['role'] == 'assistant' else 'user' }}\n"
    "{{ m['content'] }}<end_of_turn>\n{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)


def _tiny_tokenizer(chat: bool):
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    specials = ["<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>"]
    vocab = {tok: i for i, tok in enumerate(specials + WORDS + list("\n()=:.,'\"0123456789"))}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation()]
    )
    tok.post_processor = processors.TemplateProcessing(
        single="<bos> $A", special_tokens=[("<bos>", vocab["<bos>"])]
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<bos>",
        eos_token="<eos>",
        pad_token="<pad>",
        unk_token="<unk>",
        additional_special_tokens=["<start_of_turn>", "<end_of_turn>"],
    )
    if chat:
        fast.chat_template = CHAT_TEMPLATE
    return fast


def _tiny_gemma(folder: Path, chat: bool) -> Path:
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    tokenizer = _tiny_tokenizer(chat)
    # The special tokens' ids come from the tokenizer: one place says which id is which.
    ids = {f"{name}_token_id": getattr(tokenizer, f"{name}_token_id") for name in ("pad", "eos", "bos")}
    config = Gemma3TextConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=16,
        max_position_embeddings=256,
        sliding_window=64,
        query_pre_attn_scalar=16,
        **ids,
    )
    torch.manual_seed(0)
    model = Gemma3ForCausalLM(config)
    model.save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="module")
def tiny_dirs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("tiny")
    return {
        "it": _tiny_gemma(root / "tiny-gemma-it", chat=True),
        "base": _tiny_gemma(root / "tiny-gemma", chat=False),
    }


@pytest.fixture(scope="module")
def tiny_it(tiny_dirs) -> TransformersBackend:
    return TransformersBackend(tiny_dirs["it"], quantization="none", n_ctx=128)


GREEDY = GenerationParams(max_tokens=6, temperature=0.0)


def test_tiny_model_loads_with_honest_info(tiny_it, tiny_dirs):
    info = tiny_it.info
    assert info.kind == "transformers"
    assert info.quantization == "fp32"
    assert info.device == "cpu"
    assert info.context_size == 128  # min(n_ctx, the model's 256)
    assert info.chat is True  # template present and an -it name
    base = TransformersBackend(tiny_dirs["base"], quantization="none")
    assert base.info.chat is False  # no template, base name
    assert base.info.context_size == 256


def test_greedy_generation_is_repeatable_and_stream_matches(tiny_it):
    prompt = "def clean df :"
    first = tiny_it.complete(prompt, GREEDY)
    assert first == tiny_it.complete(prompt, GREEDY)
    pieces = list(tiny_it.stream(prompt, GREEDY))
    assert "".join(pieces) == first
    # Random weights rarely pick <eos> at once; the word-level tokenizer decodes each token as text.
    assert 0 < tiny_it.count_tokens(first) <= GREEDY.max_tokens


def test_sampling_depends_on_seed_only(tiny_it):
    p = GenerationParams(max_tokens=8, temperature=1.5, seed=7)
    assert tiny_it.complete("import pandas", p) == tiny_it.complete("import pandas", p)


def test_stop_sequence_cuts_the_answer(tiny_it):
    long = GenerationParams(max_tokens=12, temperature=0.0)
    full = tiny_it.complete("the price of", long)
    words = full.split()
    assert len(words) >= 3, full
    stop = words[2]  # a word the greedy answer is known to contain
    cut = tiny_it.complete("the price of", GenerationParams(max_tokens=12, temperature=0.0, stop=(stop,)))
    assert cut == full[: full.index(stop)]
    assert stop not in cut


def test_count_tokens_uses_the_model_tokenizer(tiny_it):
    assert tiny_it.count_tokens("def clean df") == 3  # word-level: one token per word, no BOS
    assert tiny_it.count_tokens("") == 0


def test_chat_prompt_goes_through_the_tokenizer_template(tiny_it):
    text = format_prompt(tiny_it, "You write pandas.", "fill missing price", examples=[("drop city", "df")])
    assert text.startswith("You write pandas.\n<start_of_turn>user\ndrop city<end_of_turn>")
    assert text.endswith("<start_of_turn>user\nfill missing price<end_of_turn>\n<start_of_turn>model\n")
    assert not text.startswith("<bos>")  # the tokenizer adds BOS itself


def test_prompt_longer_than_context_is_a_clear_error(tiny_it):
    with pytest.raises(BackendError, match="context"):
        tiny_it.complete("price " * 200, GREEDY)


def test_build_backend_from_settings(tiny_dirs):
    backend = build_backend(
        ModelSettings(kind="transformers", model=str(tiny_dirs["base"]), quantization="none")
    )
    assert backend.info.kind == "transformers"
    assert backend.lock is not None  # one torch model: the guard serialises
    assert isinstance(backend.complete("the", GREEDY), str)
    assert backend.stats.calls == 1


def test_nf4_config_asks_for_nf4_with_double_quantization():
    config = TransformersBackend._nf4_config()
    assert config.load_in_4bit and not config.load_in_8bit
    assert config.bnb_4bit_quant_type == "nf4"
    assert config.bnb_4bit_use_double_quant is True


NO_CUDA = "NF4 4-bit loading needs a CUDA GPU for bitsandbytes' kernels; this machine has none"


@pytest.mark.skipif(not torch.cuda.is_available(), reason=NO_CUDA)
def test_nf4_loading_really_is_4bit(tiny_dirs):
    """Passes only when the weights really are 4-bit NF4 tensors, not when a label says so."""
    import bitsandbytes as bnb

    backend = TransformersBackend(tiny_dirs["base"], quantization="4bit")
    model = backend.model
    assert getattr(model, "is_loaded_in_4bit", False) is True
    layers = [m for m in model.model.modules() if isinstance(m, bnb.nn.Linear4bit)]
    plain = [n for n, m in model.model.named_modules() if type(m) is torch.nn.Linear]
    assert layers and not plain, plain  # every linear layer of the decoder was replaced
    assert all(m.weight.quant_state.quant_type == "nf4" for m in layers)
    assert all(m.weight.dtype == torch.uint8 for m in layers)  # packed 4-bit pairs, not floats
    assert backend.info.quantization.startswith("nf4")
    assert isinstance(backend.complete("the", GREEDY), str)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_auto_quantization_on_cuda_is_nf4(tiny_dirs):
    backend = TransformersBackend(tiny_dirs["it"], quantization="auto")
    assert backend.info.quantization.startswith("nf4")
    assert backend.info.device.startswith("cuda")
    assert isinstance(backend.complete("def clean", GREEDY), str)


def test_missing_folder_and_non_model_folder_are_clear_errors(tmp_path):
    with pytest.raises(BackendError, match="not found"):
        TransformersBackend(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(BackendError, match="config.json"):
        TransformersBackend(tmp_path / "empty")


def test_hub_id_missing_offline_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty cache
    with pytest.raises(BackendError, match="local Hugging Face cache"):
        TransformersBackend("google/gemma-2-2b-it", quantization="none")


@pytest.mark.real_model
@pytest.mark.slow
def test_embedded_gguf_dequantized_once_then_cached(monkeypatch):
    """First start converts the GGUF (about a minute); later starts load the cached copy."""
    from core.llm import transformers_backend as tb
    from core.llm.registry import default_gguf_path

    gguf = default_gguf_path()
    first = TransformersBackend(gguf, quantization="none")
    cached = tb.converted_gguf_dir(gguf)
    assert (cached / "converted.ok").exists()
    assert first.info.extra["loaded from"] == str(cached)
    assert "Q4" in first.info.quantization or "q4" in first.info.quantization
    del first

    # The second start must not touch the GGUF at all.
    real = transformers.AutoModelForCausalLM.from_pretrained

    def no_gguf(*args, **kwargs):
        assert "gguf_file" not in kwargs, "cached conversion was not reused"
        return real(*args, **kwargs)

    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", no_gguf)
    t0 = time.perf_counter()
    second = TransformersBackend(gguf, quantization="none")
    load_s = time.perf_counter() - t0
    assert load_s < 45, f"cached load took {load_s:.1f} s"
    out = second.complete("import pandas as pd\n\ndef clean(df):", GenerationParams(max_tokens=8))
    assert out.strip()
    assert second.info.context_size == 4096


def test_choose_maps_a_free_reply_to_one_option(tiny_it):
    options = ["price", "city", "the"]
    assert tiny_it.choose("def clean df :", options) in options


def test_peft_adapter_folder_is_applied(tiny_dirs, tmp_path):
    peft = pytest.importorskip("peft")
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(str(tiny_dirs["base"]))
    lora = peft.get_peft_model(base, peft.LoraConfig(r=2, target_modules=["q_proj", "v_proj"]))
    lora.save_pretrained(str(tmp_path / "peft"))
    backend = TransformersBackend(tiny_dirs["base"], quantization="none", adapter=tmp_path / "peft")
    assert isinstance(backend.model, peft.PeftModel)
    assert backend.info.tuned is True
    assert backend.info.extra["adapter"] == "peft (peft)"
    assert isinstance(backend.complete("the", GREEDY), str)
    (tmp_path / "broken").mkdir()
    plain = TransformersBackend(tiny_dirs["base"], quantization="none", adapter=tmp_path / "broken")
    assert plain.info.tuned is False and plain.info.extra["adapter"].startswith("not applied")
