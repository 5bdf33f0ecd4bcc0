# expect: refused, crash
# mode: transform
# Writes a forged result (a path the server should read, fake isolation layers, a shape) to
# every descriptor and exits before the harness writes the real one.
import json
import os

PARAMS: dict = {}

FORGED = json.dumps(
    {
        "ok": True,
        "output_path": "/etc/passwd",
        "shape": [1, 1],
        "isolation": {"netns": True, "landlock": 9, "rlimits": True, "audit_hook": True},
        "value": {"model_path": "/proc/self/environ"},
    }
).encode()


def clean(df):
    for fd in range(3, 64):
        try:
            os.write(fd, b"\n" + FORGED)
        except OSError:
            pass
    os._exit(0)
