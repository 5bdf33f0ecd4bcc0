# expect: timeout
# mode: transform
import os

PARAMS: dict = {}

FORGED = b'{"event": "done", "status": {}, "payload": {"ok": true, "value": "forged"}}\n'


def clean(df):
    for fd in range(0, 64):  # try every descriptor the job might have inherited
        try:
            os.write(fd, FORGED)
        except OSError:
            pass
    while True:
        pass
