# expect: ok
# mode: transform
# requires: landlock
# With the audit hook switched off, forks a child that leaves the job's process group (setsid)
# and keeps writing a heartbeat: it must not outlive the step (the zygote reaps it).
import os
import time

PARAMS: dict = {}


def clean(df):
    try:
        open("/etc/hostname").read()
    except PermissionError as e:
        tb = e.__traceback__
        while tb is not None:
            loc = tb.tb_frame.f_locals
            if "state" in loc and hasattr(loc["state"], "busy"):
                loc["state"].busy = True
            tb = tb.tb_next
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:  # a grandchild, twice removed from the job
            while True:
                with open("heartbeat.txt", "w") as fh:
                    fh.write(str(time.time()))
                time.sleep(0.1)
        os._exit(0)
    time.sleep(0.3)
    return df
