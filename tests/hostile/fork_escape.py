# expect: ok
# mode: transform
# requires: landlock
# With the audit hook switched off, forks a child that leaves the job's process group (setsid)
# and keeps writing a heartbeat: it must not outlive the step (the zygote reaps it).
import os
import time

from _prelude import hook_off

PARAMS: dict = {}


def clean(df):
    hook_off()
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
