"""Any server that speaks the OpenAI HTTP API: llama.cpp's server, Ollama, vLLM, a hosted endpoint.

Base models go through `/v1/completions` (the prompt is sent as is). Instruction-tuned models go
through `/v1/chat/completions` so the *server* applies the model's own chat template: the
registry's `format_prompt` asks `render_chat` for a readable transcript (what the preview shows)
and this backend remembers which messages that transcript stands for.

Servers queue requests themselves, so this backend is `concurrent`.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from typing import Any

import requests

from core.llm.base import (
    BackendError,
    BackendInfo,
    GenerationParams,
    choose_by_reply,
    looks_instruction_tuned,
)

_MAX_REMEMBERED = 64  # transcripts rendered but not yet sent; a few per open session is plenty


def normalise_base_url(url: str) -> str:
    """'http://host:8080', 'http://host:8080/', 'http://host:8080/v1/' -> 'http://host:8080/v1'."""
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise BackendError(f"Server URL must start with http:// or https://, got {url!r}")
    return url if url.endswith("/v1") else f"{url}/v1"


class OpenAICompatBackend:
    can_stream = True
    concurrent = True

    def __init__(
        self,
        base_url: str,
        *,
        model: str | None = None,
        api_key: str | None = None,
        chat: bool | None = None,
        n_ctx: int = 4096,
        timeout_s: float = 300.0,
        connect_timeout_s: float = 10.0,
    ) -> None:
        self.base_url = normalise_base_url(base_url)
        self.root_url = self.base_url.removesuffix("/v1")
        self.session = requests.Session()
        if api_key:
            self.session.headers["Authorization"] = f"Bearer {api_key}"
        self.timeout = (connect_timeout_s, timeout_s)
        self.model = model or self._first_model()
        if chat is None:
            chat = looks_instruction_tuned(self.model)
        self._transcripts: OrderedDict[str, list[dict[str, str]]] = OrderedDict()
        self._transcripts_lock = threading.Lock()
        self._tokenize_route: str | None | bool = None  # None: not probed yet; False: server has none
        self.info = BackendInfo(
            name=self.model,
            kind="openai",
            quantization="set by the server",
            device=self.root_url,
            context_size=n_ctx,
            chat=chat,
            extra={"endpoint": "/v1/chat/completions" if chat else "/v1/completions"},
        )

    # ------------------------------------------------------------------ HTTP
    def _request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        try:
            resp = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.ConnectionError as e:
            raise BackendError(f"Cannot reach the model server at {self.root_url}: is it running?") from e
        except requests.Timeout as e:
            raise BackendError(f"The model server at {self.root_url} did not answer in time") from e
        except requests.RequestException as e:
            raise BackendError(f"Request to the model server failed: {e}") from e
        if resp.status_code in (401, 403):
            raise BackendError(
                f"The model server refused the request ({resp.status_code}): check the API key"
            )
        if resp.status_code >= 400:
            detail = resp.text[:300].strip()
            raise BackendError(f"The model server answered {resp.status_code} for {url}: {detail}")
        return resp

    def _first_model(self) -> str:
        data = self._request("GET", f"{self.base_url}/models").json()
        models = [m.get("id") for m in data.get("data", []) if isinstance(m, dict) and m.get("id")]
        if not models:
            raise BackendError(f"The server at {self.root_url} lists no models; give a model name")
        return str(models[0])

    def _payload(self, prompt: str, params: GenerationParams, stream: bool) -> tuple[str, dict[str, Any]]:
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "seed": params.seed,
            "stream": stream,
        }
        if params.stop:
            body["stop"] = list(params.stop)
        if not self.info.chat:
            return f"{self.base_url}/completions", {**body, "prompt": prompt}
        with self._transcripts_lock:
            messages = self._transcripts.get(prompt)
        # A prompt that did not come from render_chat is sent as one user turn.
        return f"{self.base_url}/chat/completions", {
            **body,
            "messages": messages or [{"role": "user", "content": prompt}],
        }

    @staticmethod
    def _text_of(choice: dict[str, Any]) -> str:
        """Text of a choice in any of the shapes servers send (completion, chat, chat delta)."""
        if choice.get("text") is not None:
            return str(choice["text"])
        for key in ("delta", "message"):
            part = choice.get(key) or {}
            if part.get("content") is not None:
                return str(part["content"])
        return ""

    # ------------------------------------------------------------------ Backend
    def complete(self, prompt: str, params: GenerationParams) -> str:
        url, body = self._payload(prompt, params, stream=False)
        data = self._request("POST", url, json=body).json()
        choices = data.get("choices") or []
        if not choices:
            raise BackendError(f"The model server sent no choices: {str(data)[:200]}")
        return self._text_of(choices[0])

    def stream(self, prompt: str, params: GenerationParams) -> Iterator[str]:
        url, body = self._payload(prompt, params, stream=True)
        resp = self._request("POST", url, json=body, stream=True)
        with resp:
            # Server-sent events: "data: {json}" lines, ending with "data: [DONE]".
            for raw in resp.iter_lines(decode_unicode=False):
                line = raw.decode("utf-8", errors="replace").strip() if raw else ""
                if not line.startswith("data:"):
                    continue
                data = line[len("data:") :].strip()
                if data == "[DONE]":
                    break
                try:
                    event = json.loads(data)
                except json.JSONDecodeError:
                    continue
                if "error" in event:
                    raise BackendError(f"The model server failed mid-stream: {event['error']}")
                for choice in event.get("choices") or []:
                    text = self._text_of(choice)
                    if text:
                        yield text

    def count_tokens(self, text: str) -> int:
        """Exact via llama.cpp's tokenize routes when the server has one, else about 4 chars a token."""
        routes = [
            ("/extras/tokenize/count", {"input": text, "model": self.model}, "count"),  # llama-cpp-python
            ("/tokenize", {"content": text}, "tokens"),  # llama.cpp's own server
        ]
        for route, body, key in routes:
            if self._tokenize_route not in (None, route):
                continue
            try:
                resp = self.session.post(f"{self.root_url}{route}", json=body, timeout=self.timeout)
                value = resp.json().get(key) if resp.ok else None
            except (requests.RequestException, ValueError):
                value = None
            if value is not None:
                self._tokenize_route = route
                return value if isinstance(value, int) else len(value)
        self._tokenize_route = False
        return max(1, len(text) // 4)

    def choose(self, prompt: str, options: Sequence[str]) -> str:
        # Servers differ in how (and whether) they constrain output, so map a short reply instead.
        return choose_by_reply(self, prompt, options)

    def render_chat(self, messages: list[dict[str, str]]) -> str:
        """A readable transcript for the preview; the server applies the real template."""
        text = "".join(f"<{m['role']}>\n{m['content']}\n</{m['role']}>\n" for m in messages) + "<assistant>\n"
        with self._transcripts_lock:
            self._transcripts[text] = [dict(m) for m in messages]
            while len(self._transcripts) > _MAX_REMEMBERED:
                self._transcripts.popitem(last=False)
        return text

    def close(self) -> None:
        self.session.close()
