# expect: ok
# mode: script
# timeout: 20
# Reads its own memory through /proc/self/mem (no ctypes needed): the fork inherits the warm
# zygote's whole heap, freed buffers included, so it must never have held another job's data.
import re

import numpy as np

PARAMS: dict = {}

pat = re.compile(rb"PREVJOB-[0-9a-f]{32}")
found = set()
# Writable mappings that hold pages (smaps Rss): heap, anonymous memory, .data/.bss. Code and
# read-only data cannot hold anything received at run time; never-touched reservations are zeros.
regions = []
with open("/proc/self/smaps") as fh:
    current = None
    for line in fh:
        head = line.split()
        if "-" in head[0] and len(head) >= 5:
            lo, hi = (int(x, 16) for x in head[0].split("-"))
            current = (lo, hi) if head[1].startswith("rw") else None
        elif head[0] == "Rss:" and current is not None and int(head[1]) > 0:
            regions.append(current)
PAGE = 4096
with open("/proc/self/pagemap", "rb", buffering=0) as pm, open("/proc/self/mem", "rb", buffering=0) as mem:
    for lo, hi in regions:
        pm.seek(lo // PAGE * 8)
        present = np.frombuffer(pm.read((hi - lo) // PAGE * 8), dtype=np.uint64) >> np.uint64(63)
        idx = np.flatnonzero(present)  # only pages that hold data (a reservation reads as zeros)
        if not len(idx):
            continue
        breaks = np.flatnonzero(np.diff(idx) != 1)
        for a, b in zip(np.r_[0, breaks + 1], np.r_[breaks, len(idx) - 1], strict=True):
            start, stop = lo + int(idx[a]) * PAGE, lo + (int(idx[b]) + 1) * PAGE
            try:
                mem.seek(start)
                chunk = mem.read(stop - start)
            except OSError:
                continue
            found.update(m.decode() for m in pat.findall(chunk))
result = sorted(found)
