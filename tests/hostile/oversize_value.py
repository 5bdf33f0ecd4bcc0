# expect: refused
# mode: script
PARAMS: dict = {}

result = "x" * 6_000_000  # 6 MB of `value`
