# expect: ok
# mode: script
# timeout: 20
# Walks every frame above the step (the harness, the forked zygote's loop) and returns their
# locals: nothing of an earlier job (another project's payload, input or code) may be there.
import sys

PARAMS: dict = {}

seen = []
f = sys._getframe()
while f is not None:
    seen.append(repr(f.f_locals)[:200_000])
    f = f.f_back
result = seen
