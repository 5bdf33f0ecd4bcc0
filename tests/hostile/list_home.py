# expect: refused
# mode: script
import os

PARAMS: dict = {}

result = os.listdir(os.path.join(PARAMS["home"], ".ssh"))
