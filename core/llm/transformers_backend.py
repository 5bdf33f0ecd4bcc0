"""Hugging Face transformers backend: a model folder, a hub id from the local cache, or a GGUF file.

- With CUDA, `quantization="auto"` loads 4-bit NF4 through bitsandbytes (how a bigger Gemma -it
  fits a small GPU); on CPU it loads full precision.
- A GGUF file (the embedded Gemma included) is de-quantized by transformers, which takes about a
  minute and converts the tokenizer slowly too; the converted model and tokenizer are saved to the
  cache keyed by the file's hash, so every later start loads plain safetensors in seconds.
- Nothing is downloaded when HF_HUB_OFFLINE is set: a missing hub id is a clear `BackendError`.

One torch model serves one generation at a time (`concurrent = False`): the registry's guard
serialises callers.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from core.llm.base import (
    BackendError,
    BackendInfo,
    GenerationParams,
    StopBuffer,
    choose_by_reply,
    looks_instruction_tuned,
)
from core.llm.gguf import check_gguf_file
from core.llm.paths import cache_dir

CONVERTED_DIR = "transformers-from-gguf"
_DONE_MARKER = "converted.ok"


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def _file_sha256(path: Path) -> str:
    """sha256 of a file, remembered in the cache by size and mtime (hashing 250 MB per start is waste)."""
    st = path.stat()
    memo = cache_dir() / CONVERTED_DIR / "hashes" / f"{path.name}.{st.st_size}.{st.st_mtime_ns}.sha256"
    if memo.exists():
        return memo.read_text(encoding="utf-8").strip()
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    memo.parent.mkdir(parents=True, exist_ok=True)
    memo.write_text(h.hexdigest(), encoding="utf-8")
    return h.hexdigest()


def converted_gguf_dir(gguf_path: str | os.PathLike[str]) -> Path:
    """Cache folder for the de-quantized copy of a GGUF file (keyed by the file's content hash)."""
    path = check_gguf_file(gguf_path)
    return cache_dir() / CONVERTED_DIR / f"{path.stem}-{_file_sha256(path)[:16]}"


def _forget_gguf_quantizer(model: Any) -> None:
    """Make a de-quantized GGUF model saveable.

    transformers keeps its GGUF "quantizer" on the model even when every weight was unpacked to
    plain float tensors, and refuses to save such a model; the weights no longer need it.
    """
    model.hf_quantizer = None
    if hasattr(model, "is_quantized"):
        model.is_quantized = False
    if getattr(model.config, "quantization_config", None) is not None:
        del model.config.quantization_config


def convert_gguf(gguf_path: str | os.PathLike[str]) -> Path:
    """De-quantize a GGUF into a transformers folder once; later calls return the cached folder."""
    path = check_gguf_file(gguf_path)
    target = converted_gguf_dir(path)
    if (target / _DONE_MARKER).exists():
        return target
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
        model = AutoModelForCausalLM.from_pretrained(
            str(path.parent), gguf_file=path.name, dtype=torch.float32
        )
        _forget_gguf_quantizer(model)
        model.save_pretrained(str(tmp))
        tokenizer.save_pretrained(str(tmp))
        (tmp / _DONE_MARKER).write_text(path.name, encoding="utf-8")
    except MemoryError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise BackendError(f"Out of memory de-quantizing {path.name} for transformers") from e
    except (ValueError, OSError, RuntimeError, KeyError) as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise BackendError(f"transformers could not load the GGUF file {path.name}: {e}") from e
    try:
        os.replace(tmp, target)
    except OSError:  # another process finished the same conversion first
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _resolve(source: str | os.PathLike[str]) -> tuple[str, str, str]:
    """(what from_pretrained loads, display name, origin) for a folder, a GGUF file or a hub id."""
    text = str(source)
    path = Path(text).expanduser()
    if path.is_file():
        return str(convert_gguf(path)), path.stem, "gguf"
    if path.is_dir():
        if not (path / "config.json").exists():
            raise BackendError(f"{path} is not a Hugging Face model folder (it has no config.json)")
        return str(path), path.name, "folder"
    # "org/name" is a hub id; anything path-like that does not exist is a wrong path.
    is_hub_id = text.count("/") == 1 and not text.startswith((".", "/", "~")) and "\\" not in text
    if not is_hub_id:
        raise BackendError(f"Model not found: {path} (no such file or folder)")
    return text, text.split("/")[-1], "hub"


class _StopFlag:
    """A stopping criterion the streaming consumer flips (stop sequence seen, or reader gone)."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        return torch.full(
            (input_ids.shape[0],), self.event.is_set(), dtype=torch.bool, device=input_ids.device
        )


class TransformersBackend:
    can_stream = True
    concurrent = False

    def __init__(
        self,
        source: str | os.PathLike[str],
        *,
        quantization: str = "auto",
        chat: bool | None = None,
        n_threads: int | None = None,
        n_ctx: int = 4096,
        adapter: str | os.PathLike[str] | None = None,
    ) -> None:
        try:
            import torch
            import transformers
        except ImportError as e:
            raise BackendError(f"The transformers backend needs torch and transformers: {e}") from e
        target, name, origin = _resolve(source)
        if n_threads:
            torch.set_num_threads(n_threads)
        cuda = torch.cuda.is_available()
        use_4bit = quantization == "4bit" or (quantization == "auto" and cuda)
        kwargs: dict[str, Any] = {"local_files_only": _offline() or origin != "hub"}
        if use_4bit:
            kwargs["quantization_config"] = self._nf4_config()
            kwargs["device_map"] = "auto" if cuda else "cpu"
            quant_label = "nf4 4-bit (bitsandbytes)"
        else:
            kwargs["dtype"] = torch.bfloat16 if cuda else torch.float32
            quant_label = "bf16" if cuda else "fp32"
        if origin == "gguf":
            quant_label += f" (de-quantized from {name})"
        try:
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(
                target, local_files_only=kwargs["local_files_only"]
            )
            self.model = transformers.AutoModelForCausalLM.from_pretrained(target, **kwargs)
        except torch.OutOfMemoryError as e:
            raise BackendError(
                f"Out of GPU memory loading {name}; try 4-bit quantization or a smaller model"
            ) from e
        except MemoryError as e:
            raise BackendError(
                f"Out of memory loading {name}; try a smaller model or the GGUF backend"
            ) from e
        except OSError as e:
            where = (
                "the local Hugging Face cache (HF_HUB_OFFLINE is set, nothing is downloaded)"
                if (origin == "hub" and _offline())
                else str(target)
            )
            raise BackendError(f"Model {name!r} could not be loaded from {where}: {e}") from e
        except (ImportError, ValueError, RuntimeError, TypeError) as e:
            if use_4bit:
                raise BackendError(
                    f"4-bit NF4 loading of {name} failed: {e}. 4-bit needs bitsandbytes and usually a CUDA "
                    "GPU; on CPU choose quantization 'none' or the GGUF backend"
                ) from e
            raise BackendError(f"transformers could not load {name}: {e}") from e
        if cuda and not use_4bit:
            self.model.to("cuda")
        adapter_note = self._apply_adapter(adapter) if adapter is not None else None
        self.model.eval()
        self.device = str(next(self.model.parameters()).device)
        if chat is None:
            chat = bool(getattr(self.tokenizer, "chat_template", None)) and looks_instruction_tuned(name)
        config = self.model.config
        trained_ctx = int(getattr(config, "max_position_embeddings", n_ctx) or n_ctx)
        self.context_size = min(n_ctx, trained_ctx)
        self._eos_ids = self._stop_token_ids()
        self.info = BackendInfo(
            name=name,
            kind="transformers",
            quantization=quant_label,
            device=self.device,
            context_size=self.context_size,
            chat=bool(chat),
            tuned=adapter_note is not None and not adapter_note.startswith("not applied"),
            extra={"source": str(source), "loaded from": target, "trained context": str(trained_ctx)},
        )
        if adapter_note is not None:
            self.info.extra["adapter"] = adapter_note

    def _apply_adapter(self, folder: str | os.PathLike[str]) -> str:
        """Wrap the model in a peft LoRA adapter folder; a failure is reported, not fatal."""
        name = Path(folder).name
        try:
            from peft import PeftModel
        except ImportError:  # peft is optional: the base model still works
            return f"not applied ({name}: peft is not installed)"
        try:
            self.model = PeftModel.from_pretrained(self.model, str(folder))
        except (ValueError, OSError, RuntimeError, KeyError) as e:
            return f"not applied ({name}: {e})"
        return f"{name} (peft)"

    @staticmethod
    def _nf4_config() -> Any:
        try:
            import torch
            from transformers import BitsAndBytesConfig
        except ImportError as e:
            raise BackendError(f"4-bit loading needs transformers' BitsAndBytesConfig: {e}") from e
        compute = torch.bfloat16 if torch.cuda.is_available() else torch.float32
        return BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_compute_dtype=compute,
            bnb_4bit_use_double_quant=True,
        )

    def _stop_token_ids(self) -> list[int]:
        """EOS ids plus Gemma's <end_of_turn>, which ends a chat answer but is not always EOS."""
        ids: set[int] = set()
        eos = getattr(self.model.generation_config, "eos_token_id", None)
        ids.update(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        if self.tokenizer.eos_token_id is not None:
            ids.add(int(self.tokenizer.eos_token_id))
        vocab = self.tokenizer.get_vocab()
        if "<end_of_turn>" in vocab:
            ids.add(int(vocab["<end_of_turn>"]))
        return sorted(ids)

    # ------------------------------------------------------------------ generation
    def _encode(self, prompt: str) -> Any:
        enc = self.tokenizer(prompt, return_tensors="pt")
        n = int(enc["input_ids"].shape[1])
        if n >= self.context_size:
            raise BackendError(f"The prompt has {n} tokens; the context holds {self.context_size}")
        return enc.to(self.model.device)

    def stream(self, prompt: str, params: GenerationParams) -> Iterator[str]:
        import torch
        from transformers import StoppingCriteriaList, TextIteratorStreamer

        enc = self._encode(prompt)
        max_new = max(1, min(params.max_tokens, self.context_size - int(enc["input_ids"].shape[1])))
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        flag = _StopFlag()
        gen_kwargs: dict[str, Any] = {
            **enc,
            "max_new_tokens": max_new,
            "streamer": streamer,
            "stopping_criteria": StoppingCriteriaList([flag]),
            "eos_token_id": self._eos_ids or None,
            "pad_token_id": self.tokenizer.pad_token_id
            if self.tokenizer.pad_token_id is not None
            else (self._eos_ids[0] if self._eos_ids else None),
        }
        if params.temperature > 0:
            torch.manual_seed(params.seed)
            gen_kwargs.update(do_sample=True, temperature=params.temperature)
        else:
            gen_kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        errors: list[BaseException] = []

        def run() -> None:
            try:
                with torch.inference_mode():
                    self.model.generate(**gen_kwargs)
            except BaseException as e:  # noqa: BLE001 - re-raised in the reader's thread
                errors.append(e)
                streamer.end()

        worker = threading.Thread(target=run, name="transformers-generate", daemon=True)
        worker.start()
        stops = StopBuffer(params.stop)
        streamer_done = False
        try:
            for piece in streamer:
                out = stops.feed(piece)
                if out:
                    yield out
                if stops.stopped:
                    break
            else:
                streamer_done = True
            tail = stops.flush()
            if tail:
                yield tail
        finally:
            if not streamer_done:
                flag.event.set()  # a stop sequence or an abandoned stream ends generate early
                for _ in streamer:  # read to its end signal so the worker finishes
                    pass
            worker.join()
        if errors:
            e = errors[0]
            if isinstance(e, torch.OutOfMemoryError | MemoryError):
                raise BackendError("Out of memory while generating; try a shorter prompt") from e
            raise BackendError(f"Generation failed: {e}") from e

    def complete(self, prompt: str, params: GenerationParams) -> str:
        return "".join(self.stream(prompt, params))

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def choose(self, prompt: str, options: Sequence[str]) -> str:
        return choose_by_reply(self, prompt, options)

    def render_chat(self, messages: list[dict[str, str]]) -> str | None:
        """The messages through the tokenizer's chat template, or None when it has none."""
        if not getattr(self.tokenizer, "chat_template", None):
            return None
        try:
            text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        except Exception:  # noqa: BLE001 - e.g. "System role not supported" (Gemma 1/2 templates)
            system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
            rest = [dict(m) for m in messages if m["role"] != "system"]
            if system and rest:
                rest[0]["content"] = f"{system}\n\n{rest[0]['content']}"
            text = self.tokenizer.apply_chat_template(rest, tokenize=False, add_generation_prompt=True)
        bos = self.tokenizer.bos_token
        # The tokenizer adds BOS when it encodes the prompt; keep only one.
        return str(text).removeprefix(bos) if bos else str(text)

    def close(self) -> None:
        self.model = None  # type: ignore[assignment]
