"""The proposal engine: context -> retrieve -> generate -> extract -> check -> repair -> fallback.

One module per part, each imported by its own name (this package hands nothing on):
- `session`: `propose(...)` and the `ProposalSession` that runs the parts in order;
- `context`: the sample, its profile and the prompt context (`workbench`);
- `generate`: prompts in the backend's format (few-shot or tuned) and code from its replies;
- `select`: Gemma chooses among the stage's recipes;
- `check`: lint, sandbox run on the sample, contract, quality gate and intent (`Checker`);
- `repair`: the attempts trail and the bounded repair loop;
- `fallback`: requests mapped onto recipes, the rationale of a recipe plan;
- `second_look`: the model's yes/no where no intent check can be derived;
- `assist`: `explain` and `fix`; `answer`: `ask` (questions);
- `intent`, `intent_*`, `retrieve`: the intent checks and the retrieved examples the engine uses.
"""
