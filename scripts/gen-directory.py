#!/usr/bin/env python3
"""Writes an LDIF directory of N people under ou=people,dc=example,dc=com for tests and benchmarks.

usage: gen-directory.py N OUT.ldif
Edge cases every so often: accents, CJK names, DNs with escaped characters,
missing mail, two mail values. Active Directory's attributes too (schema
scripts/ldap/ad-lite.schema): a binary objectGUID, userAccountControl (every
89th person disabled: 514), userPrincipalName, and groups: everyone is in
cn=staff; every 10th person in cn=engineers, which is itself a member of
cn=cleared (nested), each kept both as memberOf and as the group's member list.
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
        f.write("dn: ou=groups,dc=example,dc=com\nobjectClass: organizationalUnit\nou: groups\n\n")
        staff, engineers = [], []
        for i in range(count):
            first, last = FIRST[i % len(FIRST)], LAST[i % len(LAST)]
            if i % 97 == 5:
                first, last = "太郎", "山田"
            uid = f"u{i:06d}"
            rdn = f"uid={uid}"
            if i % 101 == 7:
                rdn = f"cn=Smith\\, John {i}"
            lines = [f"dn: {rdn},ou=people,dc=example,dc=com", "objectClass: inetOrgPerson", "objectClass: adLiteUser",
                     attr("cn", f"{first} {last} {i}"), attr("givenName", first), attr("sn", last),
                     f"uid: {uid}", f"employeeNumber: E{i:06d}", f"title: Engineer {i % 7}",
                     f"entryUUID: {uuid.UUID(int=i + 1)}",
                     f"objectGUID:: {base64.b64encode(uuid.UUID(int=(i + 1) << 64).bytes_le).decode()}",
                     f"userAccountControl: {514 if i % 89 == 6 else 512}",
                     f"userPrincipalName: {uid}@corp.example.com"]
            dn = f"{rdn},ou=people,dc=example,dc=com"
            staff.append(dn)
            lines.append("memberOf: cn=staff,ou=groups,dc=example,dc=com")
            if i % 10 == 0:
                engineers.append(dn)
                lines.append("memberOf: cn=engineers,ou=groups,dc=example,dc=com")
            if i % 53 != 3:
                lines.append(f"mail: {uid}@example.com")
            if i % 61 == 4:
                lines.append(f"mail: {uid}.alt@example.com")
            f.write("\n".join(lines) + "\n\n")
        groups = [("staff", staff), ("engineers", engineers),
                  ("cleared", ["cn=engineers,ou=groups,dc=example,dc=com"])]
        for name, members in groups:
            f.write(f"dn: cn={name},ou=groups,dc=example,dc=com\nobjectClass: groupOfNames\ncn: {name}\n")
            f.write("".join(f"member: {member}\n" for member in members) + "\n")


if __name__ == "__main__":
    main()
