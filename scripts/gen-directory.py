#!/usr/bin/env python3
"""Writes an LDIF directory of N people under ou=people,dc=example,dc=com for tests and benchmarks.

usage: gen-directory.py N OUT.ldif
Edge cases every so often: accents, CJK names, DNs with escaped characters,
missing mail, two mail values, and a disabled flag (employeeType: disabled).
"""
import base64
import sys
import uuid

FIRST = ["Ada", "Grace", "José", "Zoë", "Chidi", "Mei", "Søren", "Priya", "Ngozi", "Élodie", "Dmitri", "Aoife"]
LAST = ["Lovelace", "Hopper", "Martínez", "Okonkwo", "Zhang", "Raman", "Eze", "Dubois", "Volkov", "Ní Bhriain"]


def attr(name, value):
    if any(ord(c) > 126 for c in value) or value.startswith((" ", ":", "<")):
        return f"{name}:: {base64.b64encode(value.encode()).decode()}"
    return f"{name}: {value}"


def main():
    count, out = int(sys.argv[1]), sys.argv[2]
    with open(out, "w", encoding="utf-8") as f:
        f.write("dn: dc=example,dc=com\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n\n")
        f.write("dn: ou=people,dc=example,dc=com\nobjectClass: organizationalUnit\nou: people\n\n")
        for i in range(count):
            first, last = FIRST[i % len(FIRST)], LAST[i % len(LAST)]
            if i % 97 == 5:
                first, last = "太郎", "山田"
            uid = f"u{i:06d}"
            rdn = f"uid={uid}"
            if i % 101 == 7:
                rdn = f"cn=Smith\\, John {i}"
            lines = [f"dn: {rdn},ou=people,dc=example,dc=com", "objectClass: inetOrgPerson",
                     attr("cn", f"{first} {last} {i}"), attr("givenName", first), attr("sn", last),
                     f"uid: {uid}", f"employeeNumber: E{i:06d}", f"title: Engineer {i % 7}",
                     f"entryUUID: {uuid.UUID(int=i + 1)}"]
            if i % 53 != 3:
                lines.append(f"mail: {uid}@example.com")
            if i % 61 == 4:
                lines.append(f"mail: {uid}.alt@example.com")
            if i % 89 == 6:
                lines.append("employeeType: disabled")
            f.write("\n".join(lines) + "\n\n")


if __name__ == "__main__":
    main()
