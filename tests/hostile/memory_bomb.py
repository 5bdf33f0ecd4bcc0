# expect: memory
# mode: transform
import numpy as np

PARAMS: dict = {}


def clean(df):
    hog = []
    while True:
        hog.append(np.empty(10**7))  # 80 MB of address space per round
