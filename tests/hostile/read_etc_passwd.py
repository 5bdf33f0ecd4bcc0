# expect: refused
# mode: script
PARAMS: dict = {}

with open("/etc/passwd") as fh:
    result = fh.read()
