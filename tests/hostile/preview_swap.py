# expect: refused
# mode: transform
# requires: landlock
# Preview tampering: with the audit hook switched off (through a refusal's traceback), turns the
# workspace's outputs into symlinks to the raw upload and rewrites the project's preview copies
# beside the workspace. Only Landlock stands in the way of the second part.
import os

from _prelude import hook_off

PARAMS: dict = {}


def clean(df):
    hook_off()
    for folder in ("runs", "."):
        for name in os.listdir(folder) if os.path.isdir(folder) else []:
            if name.endswith("out.parquet"):  # outputs only: the step's own input stays
                path = os.path.join(folder, name)
                os.remove(path)
                os.symlink(PARAMS["raw"], path)
    previews = os.path.join("..", "previews")
    for name in os.listdir(previews) if os.path.isdir(previews) else ["x.parquet"]:
        with open(os.path.join(previews, name), "wb") as fh:
            fh.write(b"tampered")
    return df
