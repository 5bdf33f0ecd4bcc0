# expect: refused
# mode: script
# requires: landlock
# A refusal's traceback reaches the audit hook's own frame; switching the hook off that way must
# leave the kernel layers (Landlock) in force: reading outside the project is still refused.
from _prelude import hook_off

PARAMS: dict = {}

hook_off()  # the hook now waves everything through
result = open(PARAMS["raw"]).read()  # the hook is off: only the kernel can refuse this
