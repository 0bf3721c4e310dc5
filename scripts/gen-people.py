#!/usr/bin/env python3
"""Writes a CSV of N synthetic people for benchmarks and tests.

usage: gen-people.py N OUT.csv [--change-percent P] [--seed S]
With --change-percent, P% of people get a new job title (same ids), so a
snapshot taken from the unchanged file sees exactly those as updates.
"""
import argparse
import csv
import random

FIRST = ["Ada", "Grace", "Alan", "José", "Zoë", "Chidi", "Mei", "Fatima", "Søren", "Priya", "Liam", "Ngozi",
         "Hiroshi", "Isabella", "Dmitri", "Aoife", "Kwame", "Élodie", "Mohammed", "Sarah", "Tomás", "Yuki"]
LAST = ["Lovelace", "Hopper", "Turing", "Martínez", "Okonkwo", "Zhang", "Al-Sayed", "Raman", "Murphy", "Eze",
        "Tanaka", "García", "Volkov", "Mensah", "Dubois", "Rahman", "Goldberg", "Sato", "O'Neil", "Silva"]
TITLES = ["Engineer", "Analyst", "Security Officer", "Program Manager", "Technician", "Scientist",
          "Administrator", "Specialist, Contracts"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("count", type=int)
    parser.add_argument("out")
    parser.add_argument("--change-percent", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    change_every = int(100 / args.change_percent) if args.change_percent else 0
    with open(args.out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["employee_number", "first_name", "last_name", "email", "title", "department", "ssn",
                    "hire_date"])
        for i in range(args.count):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            title = rng.choice(TITLES)
            if change_every and i % change_every == 0:
                title = "Senior " + title
            ssn = f"{100 + i % 800:03d}-{10 + i % 89:02d}-{1000 + i % 8999:04d}"
            w.writerow([f"E{i:07d}", first, last, f"person{i}@example.com", title, "Dept " + str(i % 40), ssn,
                        f"20{10 + i % 15}-0{1 + i % 9}-1{i % 9}"])


if __name__ == "__main__":
    main()
