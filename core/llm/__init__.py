"""The LLM layer: one `Backend` protocol, several implementations, one registry.

Import from here for the common names; heavy backends (llama.cpp, torch) load only when built.
"""

from core.llm.base import Backend, BackendError, BackendInfo, GenerationParams
from core.llm.registry import (
    GuardedBackend,
    ModelSettings,
    build_backend,
    default_gguf_path,
    format_prompt,
    guarded,
    settings_from_env,
)

__all__ = [
    "Backend",
    "BackendError",
    "BackendInfo",
    "GenerationParams",
    "GuardedBackend",
    "ModelSettings",
    "build_backend",
    "default_gguf_path",
    "format_prompt",
    "guarded",
    "settings_from_env",
]
