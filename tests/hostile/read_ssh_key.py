# expect: refused
# mode: script
import os

PARAMS: dict = {}

found = []
for path in (os.path.expanduser("~/.ssh/id_rsa"), os.path.join(PARAMS["home"], ".ssh", "id_rsa")):
    if os.path.exists(path):
        with open(path) as fh:
            found.append(fh.read())
result = found
if not found:
    raise FileNotFoundError("no key visible")
