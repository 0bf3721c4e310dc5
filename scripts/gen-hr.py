#!/usr/bin/env python3
"""Writes N generated employees for examples/postgres-hr/schema.sql as COPY text.

Edge cases on purpose: accents and CJK, apostrophes, NULL middle names,
e-mails and SSNs, duplicate-looking e-mails in aliases, terminated and
on-leave employees, contractors, numerics and arrays.

usage: gen-hr.py COUNT [FIRST_NUMBER] > employees.copy
"""
import random
import sys
import uuid

count = int(sys.argv[1])
first = int(sys.argv[2]) if len(sys.argv) > 2 else 200000
rng = random.Random(42)

given = ["James", "María", "Zoë", "Jürgen", "Aoife", "Chloé", "Dmitri", "Ngozi", "Søren", "Mei", "Raj", "Łucja",
         "Tomás", "Hana", "Olu", "Émile", "美咲", "Ильин", "Sven", "Amara", "D'Arcy", "Ana Sofía"]
family = ["Smith", "García", "O'Brien", "Müller", "Nguyễn", "Kowalski", "Dubois", "Okafor", "Østergaard", "Wang",
          "Patel", "Brzęczyszczykiewicz", "Silva", "田中", "Иванов", "Johansson", "Mbeki", "de la Cruz", "Al-Farsi"]
titles = ["Engineer", "Analyst", "Technician", "Security Officer", "Manager", "Clerk", "Scientist", None]


def esc(value):
    if value is None:
        return r"\N"
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def array(values):
    return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"


out = sys.stdout
for i in range(count):
    n = first + i
    g = rng.choice(given)
    f = rng.choice(family)
    middle = rng.choice([None, None, "Ann", "José", "Q", "Marie-Claire"])
    local = f"{g}.{f}.{n}".lower().replace(" ", "").replace("'", "")
    email = None if i % 97 == 13 else f"{local}@example.com"
    aliases = None if i % 5 else array([f"{n}@corp.example.com", f"x{n}@example.com"])
    status = "terminated" if i % 50 == 7 else ("on_leave" if i % 40 == 3 else "active")
    terminated = f"2026-0{1 + i % 9}-15 17:30:00.25-05" if status == "terminated" else None
    ssn = None if i % 31 == 5 else (f"{100 + i % 800:03d}{i % 100:02d}{n % 10000:04d}" if i % 3 == 0
                                     else f"{100 + i % 800:03d}-{i % 100:02d}-{n % 10000:04d}")
    row = [
        f"E{n:06d}", uuid.UUID(int=rng.getrandbits(128), version=4), g, middle, f, email, aliases,
        rng.choice(titles), rng.choice([10, 20, 30]), rng.choice([1, 2]), ssn,
        f"{1950 + i % 50}-{1 + i % 12:02d}-{1 + i % 28:02d}", rng.choice([None, "Paris", "Zürich", "東京"]),
        f"{2000 + i % 26}-{1 + i % 12:02d}-{1 + i % 28:02d}", status, terminated,
        "t" if i % 11 == 0 else "f", rng.choice([None, 1, 2, 3]), f"{40000 + (i * 37) % 150000}.{i % 100:02d}",
    ]
    out.write("\t".join(esc(v) for v in row) + "\n")
