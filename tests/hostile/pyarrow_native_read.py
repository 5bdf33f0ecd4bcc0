# expect: refused
# mode: script
# requires: landlock
import pyarrow.csv

PARAMS: dict = {}

result = pyarrow.csv.read_csv("/etc/passwd").to_pandas().to_dict()
