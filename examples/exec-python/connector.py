#!/usr/bin/env python3
"""A compliance-sync connector in Python: reads an HR system's JSON export and
prints its employees in the exec protocol (docs/writing-a-connector.md).

usage: connector.py EXPORT.json [--include-leave]

Standard output carries the records and nothing else; messages go to
standard error (compliance-sync logs them). Any failure exits non-zero, so
the sync stops before sending anything.
"""
import json
import sys


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: connector.py EXPORT.json [--include-leave]")
    wanted = {"active", "leave"} if "--include-leave" in sys.argv[2:] else {"active"}
    with open(sys.argv[1], encoding="utf-8") as f:
        export = json.load(f)

    out = sys.stdout
    out.write(json.dumps({"protocol": "compliance-sync.records", "version": 1}) + "\n")
    count = 0
    for employee in export["employees"]:
        if employee.get("status") not in wanted:
            continue
        name = employee.get("name", {})
        record = {
            "id": str(employee["employeeId"]),
            "attributes": {
                "employee_id": str(employee["employeeId"]),
                "given_name": name.get("given"),
                "middle_name": name.get("middle"),
                "family_name": name.get("family"),
                "emails": [employee.get("workEmail")] + employee.get("otherEmails", []),
                "title": employee.get("jobTitle"),
                "department": employee.get("department"),
                "ssn": employee.get("ssn"),
            },
        }
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    # The end line: compliance-sync fails the run if it did not read exactly this many records.
    out.write(json.dumps({"end": {"records": count}}) + "\n")
    print(f"exported {count} employees from {sys.argv[1]} ({export.get('exportedAt', 'undated')})", file=sys.stderr)


if __name__ == "__main__":
    main()
