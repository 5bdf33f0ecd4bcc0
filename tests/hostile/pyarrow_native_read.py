# expect: refused
# mode: script
import pyarrow.csv

PARAMS: dict = {}

result = pyarrow.csv.read_csv("/etc/passwd").to_pandas().to_dict()
