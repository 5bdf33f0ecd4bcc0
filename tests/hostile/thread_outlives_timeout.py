# expect: timeout
# mode: transform
import threading
import time

PARAMS: dict = {}


def _late():
    time.sleep(2.5)
    with open("thread_was_here.txt", "w") as fh:
        fh.write("still running after the step was stopped")


def clean(df):
    threading.Thread(target=_late, daemon=False).start()
    while True:
        time.sleep(0.05)
