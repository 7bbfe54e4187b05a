#!/usr/bin/env python3
"""check-etc.py ETC_DIR: the four account files parse, names are unique, and
passwd/shadow and group/gshadow list the same names. Exit 1 on any problem."""
import sys

etc = sys.argv[1]
fields = {"passwd": 7, "shadow": 9, "group": 4, "gshadow": 4}
names = {}
bad = []
for f, n in fields.items():
    try:
        text = open(f"{etc}/{f}").read()
    except FileNotFoundError:
        continue
    if text and not text.endswith("\n"):
        bad.append(f"{f}: no final newline (torn?)")
    seen = []
    for i, line in enumerate(text.splitlines(), 1):
        if not line or line.startswith("#"):
            continue
        parts = line.split(":")
        if len(parts) != n:
            bad.append(f"{f}:{i}: {len(parts)} fields: {line!r}")
            continue
        seen.append(parts[0])
    if len(seen) != len(set(seen)):
        bad.append(f"{f}: duplicate names")
    names[f] = set(seen)
if "shadow" in names and names["passwd"] != names["shadow"]:
    bad.append(f"passwd/shadow differ: {sorted(names['passwd'] ^ names['shadow'])}")
if "gshadow" in names and names["group"] != names["gshadow"]:
    bad.append(f"group/gshadow differ: {sorted(names['group'] ^ names['gshadow'])}")
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
