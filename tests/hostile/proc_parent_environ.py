# expect: refused
# mode: script
import os

PARAMS: dict = {}

with open(f"/proc/{os.getppid()}/environ", "rb") as fh:
    result = fh.read().decode(errors="replace")
