# expect: refused
# mode: script
# requires: landlock
# A refusal's traceback reaches the audit hook's own frame; switching the hook off that way must
# leave the kernel layers (Landlock) in force: reading outside the project is still refused.
PARAMS: dict = {}

try:
    open("/etc/hostname").read()
except PermissionError as e:
    tb = e.__traceback__
    while tb is not None:
        loc = tb.tb_frame.f_locals
        if "state" in loc and hasattr(loc["state"], "busy"):
            loc["state"].busy = True  # the hook now waves everything through
        tb = tb.tb_next
result = open(PARAMS["raw"]).read()  # the hook is off: only the kernel can refuse this
