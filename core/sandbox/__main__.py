"""`python -m core.sandbox`: which containment layers a step gets here, and whether this
deployment lets code run (the same report the sidebar and `python -m core doctor` show)."""

import json
import sys

from core.sandbox.policy import isolation_report

report = isolation_report()
print(json.dumps(report, indent=1))
sys.exit(0 if report["can_run"] else 1)
