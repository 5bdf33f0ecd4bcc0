# expect: ok
# mode: script
import os

PARAMS: dict = {}

result = dict(os.environ)
