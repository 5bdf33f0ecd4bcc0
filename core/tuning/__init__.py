"""Teaching the embedded Gemma the wizard's one job: instruction -> code pairs, SFT LoRA, GGUF export.

`format` is the contract shared by the engine (what it sends to a tuned model) and the pair
generator (what the model is trained on): both render prompts through `tuned_prompt` only.
"""
