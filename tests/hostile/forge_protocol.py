# expect: crash, timeout
# mode: transform
# Writes a forged zygote event to every descriptor it holds, then spins. On the result pipe the
# forged line completes a record the server reads at once and refuses (not a result: "crash");
# nothing forged is believed, and the spinning process is killed either way.
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
