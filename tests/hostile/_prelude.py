# Code several hostile snippets share; not a snippet itself. A snippet runs as text in a process
# that cannot import from tests/, so tests/hostile_code.py puts this file in place of the
# snippet's line that imports from it.


def hook_off() -> None:
    """Switch the audit hook off through a refusal's traceback: it reaches the hook's own frame,
    and setting `state.busy` there makes the hook wave everything through."""
    try:
        open("/etc/hostname").read()
    except PermissionError as e:
        tb = e.__traceback__
        while tb is not None:
            loc = tb.tb_frame.f_locals
            if "state" in loc and hasattr(loc["state"], "busy"):
                loc["state"].busy = True
            tb = tb.tb_next
