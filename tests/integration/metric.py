#!/usr/bin/python3
# metric.py FILE NAME [LABEL=VALUE...]: the value of the sample of NAME
# with exactly these labels in a Prometheus text exposition (0 when there
# is none), read the way a scraper reads it, label order aside.
import re
import sys

path, name, want = sys.argv[1], sys.argv[2], dict(a.split("=", 1) for a in sys.argv[3:])
sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
label = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
for line in open(path):
    m = sample.match(line.rstrip("\n"))
    if not m or m.group(1) != name:
        continue
    labels = {k: v.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
              for k, v in label.findall(m.group(2) or "")}
    if labels == want:
        print(m.group(3))
        sys.exit(0)
print(0)
