"""SFT LoRA on the embedded Gemma 3 270M: the verified pairs -> a peft adapter (CPU, fp32, seeded).

    python -m core.tuning.train [--data adapters/data/train.jsonl] [--steps 300] [--budget-min 40]

The Q4_K_M GGUF the app runs is loaded de-quantized by transformers and saved once as a plain
fp32 folder (the base). The loss is computed on the code tokens only, and only their hidden
states go through the 262k-vocabulary head (`model.model(...)` for the hidden states, gather the
answer positions, then `lm_head`): the full-sequence head is most of the cost on a CPU.
The adapter is checkpointed every `--save-every` steps; a restarted run resumes from the last
checkpoint. `--budget-min` times the first steps and cuts the step count so the run ends in time.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import sys
import time
from pathlib import Path
from typing import Any

SEED = 14
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
MAX_LEN = 448  # longer pairs are left out, never truncated (a cut target teaches a cut function)
# LoRA on the upper layers only: autograd then stops there, so the backward pass skips the lower
# half of the network (a third less work per step on a CPU); the format is learned up there.
LORA_LAYERS = list(range(8, 18))


def work_dir() -> Path:
    from core.llm.paths import cache_dir

    path = Path(os.environ.get("GEMMA_WIZARD_TUNING_DIR") or cache_dir() / "tuning")
    path.mkdir(parents=True, exist_ok=True)
    return path


def base_dir() -> Path:
    """The de-quantized fp32 base as a transformers folder, made once from the embedded GGUF."""
    out = work_dir() / "base-fp32"
    if (out / "config.json").exists() and any(out.glob("*.safetensors")):
        return out
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from core.llm.paths import default_gguf_path

    gguf = default_gguf_path()
    tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    # A de-quantized model still carries the GGUF "quantizer"; without dropping it,
    # save_pretrained refuses or writes a config that reloads as quantized.
    for attr in ("hf_quantizer", "quantization_config"):
        if hasattr(model, attr):
            try:
                delattr(model, attr)
            except AttributeError:
                setattr(model, attr, None)
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    tok.save_pretrained(tmp)
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return out


def encode(rows: list[dict[str, Any]], tok: Any) -> list[tuple[list[int], int]]:
    """(token ids, index of the first target token) per pair, prompt and target tokenized apart
    exactly as at inference (llama.cpp tokenizes the prompt alone, with BOS)."""
    out = []
    for r in rows:
        p = tok(r["prompt"], add_special_tokens=True)["input_ids"]
        t = tok(r["target"], add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
        if len(p) + len(t) <= MAX_LEN:
            out.append((p + t, len(p)))
    return out


def batches(items: list[tuple[list[int], int]], size: int, seed: int) -> list[list[int]]:
    """Index batches of similar length (little padding), in a seeded random order."""
    rnd = random.Random(seed)
    idx = list(range(len(items)))
    rnd.shuffle(idx)
    chunks = [
        sorted(idx[i : i + size * 16], key=lambda j: len(items[j][0])) for i in range(0, len(idx), size * 16)
    ]
    out = [c[i : i + size] for c in chunks for i in range(0, len(c), size)]
    rnd.shuffle(out)
    return out


def answer_loss(model: Any, batch: list[tuple[list[int], int]], pad_id: int) -> Any:
    """Cross-entropy on the target tokens only, the head applied to those positions only."""
    import torch

    width = max(len(ids) for ids, _ in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    rows, cols, labels = [], [], []
    for b, (seq, start) in enumerate(batch):
        ids[b, : len(seq)] = torch.tensor(seq)
        mask[b, : len(seq)] = 1
        for t in range(start - 1, len(seq) - 1):  # the hidden state at t predicts token t+1
            rows.append(b)
            cols.append(t)
            labels.append(seq[t + 1])
    causal = model.get_base_model()
    hidden = causal.model(input_ids=ids, attention_mask=mask).last_hidden_state
    picked = hidden[torch.tensor(rows), torch.tensor(cols)]
    logits = causal.lm_head(picked)
    cap = getattr(causal.config, "final_logit_softcapping", None)
    if cap:
        logits = torch.tanh(logits / cap) * cap
    return torch.nn.functional.cross_entropy(logits.float(), torch.tensor(labels))


def lr_at(step: int, total: int, peak: float, warmup: int = 10, start: int = 0) -> float:
    """Linear warm-up then cosine decay over [start, total) (start > 0: a warm restart)."""
    step, total = step - start, total - start
    if step < warmup:
        return peak * (step + 1) / warmup
    return peak * 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warmup) / max(1, total - warmup))))


def train(args: argparse.Namespace) -> dict[str, Any]:
    import torch
    from peft import LoraConfig, PeftModel, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from core.tuning.pairs import digest

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    rows = [json.loads(line) for line in open(args.data, encoding="utf-8")]
    data_hash = digest(rows)
    base = base_dir()
    tok = AutoTokenizer.from_pretrained(base)
    items = encode(rows, tok)
    order = batches(items, args.batch, args.seed)
    ckpt = Path(args.ckpt) if args.ckpt else work_dir() / "ckpt"
    state_file = ckpt / "state.json"
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32, attn_implementation="sdpa")
    state: dict[str, Any] = {
        "step": 0,
        "losses": [],
        "total": args.steps,
        "data_hash": data_hash,
        "elapsed_s": 0.0,
    }
    if state_file.exists() and json.loads(state_file.read_text())["data_hash"] == data_hash:
        state = json.loads(state_file.read_text())
        model = PeftModel.from_pretrained(model, ckpt / "adapter", is_trainable=True)
        if args.extend:
            # More steps on a finished run: a short warm restart of the schedule from here.
            state["restart_at"], state["total"] = state["step"], state["step"] + args.extend
        print(f"resuming at step {state['step']} of {state['total']}", file=sys.stderr, flush=True)
    else:
        config = LoraConfig(
            r=16, lora_alpha=32, lora_dropout=0.0, target_modules=LORA_TARGETS,
            layers_to_transform=LORA_LAYERS, task_type="CAUSAL_LM",
        )  # fmt: skip
        model = get_peft_model(model, config)
    # Recorded in every checkpoint, so the manifest can say what the run actually saw.
    state.update(batch=args.batch, lr=args.lr, pairs_eligible=len(items), pairs_in_file=len(rows))
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.0)
    if state["step"] and (ckpt / "optim.pt").exists():
        opt.load_state_dict(torch.load(ckpt / "optim.pt"))
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0
    t_start = time.time() - state["elapsed_s"]
    first_dt = 0.0
    while state["step"] < state["total"]:
        step = state["step"]
        t0 = time.time()
        batch = [items[j] for j in order[step % len(order)]]
        for g in opt.param_groups:
            g["lr"] = lr_at(
                step,
                state["total"],
                args.lr,
                3 if state.get("restart_at") else 10,
                state.get("restart_at", 0),
            )
        loss = answer_loss(model, batch, pad)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        dt = time.time() - t0
        value = float(loss.detach())
        state["step"] = step + 1
        state["losses"].append(round(value, 4))
        state["elapsed_s"] = time.time() - t_start
        print(f"step {step + 1}/{state['total']} loss {value:.4f} {dt:.1f} s", file=sys.stderr, flush=True)
        if step == 0:
            first_dt = dt  # the first step pays one-off warm-up costs: not a measure of speed
        if step + 1 == 4 and args.budget_min and not state.get("restart_at"):
            per = (state["elapsed_s"] - first_dt) / 3
            # 0.85: the machine is shared, a step later in the run can be slower than these three.
            fit = int(0.85 * (args.budget_min * 60 - state["elapsed_s"]) / per) + 4
            state["total"] = max(10, min(args.steps, fit))
            state["s_per_step_first3"] = round(per, 2)
            print(f"{per:.1f} s/step: training {state['total']} steps", file=sys.stderr, flush=True)
        if args.deadline and time.time() >= args.deadline:
            state["total"] = state["step"]  # out of time: stop here, with a saved adapter
            state["stopped_at_deadline"] = True
        if state["step"] % args.save_every == 0 or state["step"] >= state["total"]:
            save(model, opt, state, ckpt)
    return state


def save(model: Any, opt: Any, state: dict[str, Any], ckpt: Path) -> None:
    import torch

    ckpt.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(ckpt / "adapter")
    torch.save(opt.state_dict(), ckpt / "optim.tmp")
    os.replace(ckpt / "optim.tmp", ckpt / "optim.pt")
    (ckpt / "state.tmp").write_text(json.dumps(state), encoding="utf-8")
    os.replace(ckpt / "state.tmp", ckpt / "state.json")  # written last: a resume sees a whole checkpoint


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="adapters/data/train.jsonl")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--save-every", type=int, default=25)
    ap.add_argument(
        "--budget-min", type=float, default=0.0, help="cut the steps to end within this many minutes"
    )
    ap.add_argument("--extend", type=int, default=0, help="train a finished run this many more steps")
    ap.add_argument("--deadline", type=float, default=0.0, help="Unix time at which to stop (and save)")
    ap.add_argument("--ckpt", default="")
    ap.add_argument("--prepare-only", action="store_true", help="only make the fp32 base folder")
    args = ap.parse_args(argv)
    if args.prepare_only:
        print(base_dir())
        return 0
    state = train(args)
    print(json.dumps({k: v for k, v in state.items() if k != "losses"}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
