# expect: ok
# mode: script
# timeout: 20
# Switches the audit hook off through a refusal's traceback, then walks every object the gc
# knows: no string or bytes from an earlier job may be reachable.
import gc
import re

from _prelude import hook_off

PARAMS: dict = {}

hook_off()
pat = re.compile(r"PREVJOB-[0-9a-f]{32}")
found = set()
for obj in gc.get_objects():
    if isinstance(obj, dict):
        items = [*obj.keys(), *obj.values()]
    elif isinstance(obj, list | tuple):
        items = obj
    else:
        continue
    for x in items:
        if isinstance(x, str | bytes) and (b"PREVJOB-" if isinstance(x, bytes) else "PREVJOB-") in x:
            found.update(pat.findall(x if isinstance(x, str) else x.decode("latin-1")))
result = sorted(found)
