"""Timing for the bench scripts: a command under GNU time, alone or alternated with others.

A run that fails (any exit but 0, or 3, which `plan` gives when a guard holds changes back) stops the
bench with the command's standard error.
"""
import re
import statistics
import subprocess
import sys


def run(command, fields, env=None):
    """Runs `command` once under /usr/bin/time with `fields` (its -f format); returns their values."""
    result = subprocess.run(["/usr/bin/time", "-f", "@@ " + fields] + command, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, env=env)
    match = re.search(r"@@ (.*)$", result.stderr, re.M)
    if result.returncode not in (0, 3) or not match:
        sys.exit(f"failed: {' '.join(command)}\n{result.stderr}")
    return [float(value) for value in match.group(1).split()]


def timed(command, env=None, runs=3):
    """Runs a command `runs` times; returns (median wall seconds, peak MiB)."""
    samples = [run(command, "%e %M", env) for _ in range(runs)]
    return sorted(wall for wall, _ in samples)[runs // 2], max(peak for _, peak in samples) / 1024


def alternated(commands, env=None, rounds=7):
    """Runs the commands in turn for `rounds` rounds; returns each one's median (wall s, CPU s: user + sys)."""
    samples = [[] for _ in commands]
    for _ in range(rounds):
        for i, command in enumerate(commands):
            wall, user, system = run(command, "%e %U %S", env)
            samples[i].append((wall, user + system))
    return [(statistics.median(w for w, _ in s), statistics.median(c for _, c in s)) for s in samples]
