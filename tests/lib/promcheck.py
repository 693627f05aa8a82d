#!/usr/bin/env python3
"""promcheck.py FILE: a strict check of Prometheus' text exposition format
(0.0.4), for tests on machines without promtool.  Exit 0 when FILE is
valid, 1 with one line per problem on stderr otherwise.

Checked: every line is a HELP, TYPE, comment, blank or sample line of the
grammar; metric and label names; label values escape only backslash,
double quote and newline; values are floats (or NaN, +Inf, -Inf) with an
optional integer timestamp; HELP and TYPE at most once per family and
before its first sample; a family's lines are contiguous; no series twice;
no label twice in a sample; the file ends with a newline.
"""
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}
SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count")}
FLOAT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$|[+-]?Inf$|NaN$")


def parse_labels(s, i, errs, where):
    """Parse {a="b",...} from s[i] == '{'; return (labels, index after '}')."""
    labels = []
    i += 1
    while True:
        if i < len(s) and s[i] == "}":
            return labels, i + 1
        m = re.compile(LABEL).match(s, i)
        if not m:
            errs.append(f"{where}: bad label name at column {i + 1}")
            return None, None
        name = m.group(0)
        i = m.end()
        if s[i:i + 2] != '="':
            errs.append(f"{where}: expected =\" after label {name}")
            return None, None
        i += 2
        val = []
        while True:
            if i >= len(s):
                errs.append(f"{where}: unterminated value of label {name}")
                return None, None
            c = s[i]
            if c == "\\":
                nxt = s[i + 1:i + 2]
                if nxt not in ("\\", '"', "n"):
                    errs.append(f"{where}: bad escape \\{nxt} in label {name}")
                    return None, None
                val.append({"\\": "\\", '"': '"', "n": "\n"}[nxt])
                i += 2
            elif c == '"':
                i += 1
                break
            else:
                val.append(c)
                i += 1
        if name in [n for n, _ in labels]:
            errs.append(f"{where}: label {name} twice")
        if name.startswith("__"):
            errs.append(f"{where}: label {name} is reserved")
        labels.append((name, "".join(val)))
        if i < len(s) and s[i] == ",":
            i += 1
        elif i < len(s) and s[i] == "}":
            continue
        else:
            errs.append(f"{where}: expected , or }} after label {name}")
            return None, None


def family_of(name, types):
    for fam, t in types.items():
        if name == fam or (name.startswith(fam) and name[len(fam):] in SUFFIXES.get(t, ())):
            return fam
    return name


def check(text):
    errs = []
    if text and not text.endswith("\n"):
        errs.append("the file does not end with a newline")
    helps, types, seen, done = set(), {}, set(), set()
    current = None
    for n, line in enumerate(text.split("\n")[:-1] if text.endswith("\n") else text.split("\n"), 1):
        where = f"line {n}"
        if line.strip() == "":
            continue
        if line.startswith("#"):
            m = re.match(r"#[ \t]+(HELP|TYPE)[ \t]+(\S+)(?:[ \t]+(.*))?$", line)
            if not m:
                continue        # a comment
            kind, name, rest = m.group(1), m.group(2), m.group(3) or ""
            if not re.fullmatch(NAME, name):
                errs.append(f"{where}: bad metric name {name!r} in {kind}")
                continue
            if name in done or (current is not None and current != name and name in seen):
                errs.append(f"{where}: {kind} for {name} after its samples")
            if kind == "HELP":
                if name in helps:
                    errs.append(f"{where}: second HELP for {name}")
                helps.add(name)
                if "\\" in re.sub(r"\\[\\n]", "", rest):
                    errs.append(f"{where}: bad escape in the HELP of {name}")
            else:
                if name in types:
                    errs.append(f"{where}: second TYPE for {name}")
                if rest.strip() not in TYPES:
                    errs.append(f"{where}: unknown type {rest!r} for {name}")
                if name in seen:
                    errs.append(f"{where}: TYPE for {name} after its samples")
                types[name] = rest.strip()
            if current is not None and current != name:
                done.add(current)
            current = name
            continue
        m = re.compile(NAME).match(line)
        if not m:
            errs.append(f"{where}: not a sample line")
            continue
        name, i = m.group(0), m.end()
        labels = []
        if i < len(line) and line[i] == "{":
            labels, i = parse_labels(line, i, errs, where)
            if labels is None:
                continue
        parts = line[i:].split(" ")
        if len(parts) < 2 or parts[0] != "" or len(parts) > 3:
            errs.append(f"{where}: expected one space, a value and maybe a timestamp")
            continue
        if not FLOAT.match(parts[1]):
            errs.append(f"{where}: bad value {parts[1]!r}")
        if len(parts) == 3 and not re.fullmatch(r"-?[0-9]+", parts[2]):
            errs.append(f"{where}: bad timestamp {parts[2]!r}")
        fam = family_of(name, types)
        if fam in types and types[fam] in ("counter", "gauge", "untyped") and name != fam:
            errs.append(f"{where}: sample {name} in family {fam}")
        if fam in done:
            errs.append(f"{where}: {fam} again after other families (not contiguous)")
        if current is not None and current != fam:
            done.add(current)
        current = fam
        seen.add(fam)
        key = (name, tuple(sorted(labels)))
        if key in seen:
            errs.append(f"{where}: series {name}{dict(labels)} twice")
        seen.add(key)
    return errs


def main():
    if len(sys.argv) != 2:
        print("usage: promcheck.py FILE", file=sys.stderr)
        return 100
    with open(sys.argv[1], encoding="utf-8") as f:
        errs = check(f.read())
    for e in errs:
        print(f"{sys.argv[1]}: {e}", file=sys.stderr)
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
