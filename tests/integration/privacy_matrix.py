#!/usr/bin/env python3
"""The privacy matrix of the reference scenario, measured (doc/plugins.md).

Every field the wristband writes, and what each service writes for the
next, carries a marker of its own. After the composition has run on real
daemons, the memory of every process of every node (spnd and its plugin
processes, /proc/PID/mem over each readable mapping) and the capture of the
wire are searched for each marker; the set of places that hold it must be
exactly the set this file says may read it.

  privacy_matrix.py markers OUT.json
      fresh markers, the sections the wristband sends with them, and what
      the bank and the pharmacy are seeded with
  privacy_matrix.py check MARKERS.json --node NAME=PID[,PID...] ...
                    [--pcap FILE [--wire-ports PORT,...]]
                    [--receipts FILE ...] [--logdir DIR] [--quiet]
      the table, and exit status 0 only when every cell is as intended and
      no node's log (DIR/NAME/*.log) holds any marker. A node is each PID
      given and every process below it: spnd, and a service of its own
      that is no child of spnd (a web application behind the plugin http).
      With --wire-ports, the wire is the connections to or from one of
      those ports (the nodes'): what a node says on loopback to a service
      of its own stays on its machine, as its plugins' pipes do.
"""
import glob
import json
import os
import random
import sys

# The intended matrix, written once: who may read each field. The wire may
# read none of them; the routers (psp, admin-care, admin-east) none either.
INTENDED = {
    "vitals.patient": ["healthcare-1", "hospital-1", "pharmacy-1"],
    "vitals.pulse": ["healthcare-1", "hospital-1"],
    "vitals.spo2": ["healthcare-1", "hospital-1"],
    "vitals.temp": ["healthcare-1", "hospital-1"],
    "delivery.deliver_to": ["pharmacy-1"],
    "bank.iban": ["bank-1"],
    "bank.holder": ["bank-1"],
    "bank.max_amount": ["bank-1"],
    "hospital>healthcare.case": ["healthcare-1", "hospital-1"],
    "pharmacy>hospital.order": ["hospital-1", "pharmacy-1"],
    "bank>pharmacy.ref": ["pharmacy-1", "bank-1"],
    "pharmacy>bank.amount": ["pharmacy-1", "bank-1"],
    "bank>wristband.refusal_reason": ["bank-1"],
}
WHAT = {
    "vitals.patient": "the patient's id (wristband, for healthcare)",
    "vitals.pulse": "pulse (wristband, for healthcare)",
    "vitals.spo2": "oxygen saturation (wristband, for healthcare)",
    "vitals.temp": "temperature (wristband, for healthcare)",
    "delivery.deliver_to": "delivery address (wristband, for the pharmacy)",
    "bank.iban": "IBAN (wristband, for the bank)",
    "bank.holder": "account holder (wristband, for the bank)",
    "bank.max_amount": "most it may pay (wristband, for the bank)",
    "hospital>healthcare.case": "the case the hospital opened (for healthcare)",
    "pharmacy>hospital.order": "the pharmacy's order (for the hospital)",
    "bank>pharmacy.ref": "the bank's payment reference (for the pharmacy)",
    "pharmacy>bank.amount": "the amount the pharmacy asks (for the bank)",
    "bank>wristband.refusal_reason": "why the bank refused (for the wristband)",
}
NODES = ["psp", "admin-east", "admin-care", "healthcare-1", "hospital-1", "pharmacy-1", "bank-1"]
# Learned from the wristband's receipts: what the services made up.
RECEIPT_FIELDS = {
    "hospital>healthcare.case": ("healthcare", "case"),
    "pharmacy>hospital.order": ("pharmacy", "order"),
    "bank>pharmacy.ref": ("bank", "ref"),
}


def hexid(n=12):
    return "".join(random.choice("0123456789abcdef") for _ in range(n))


def iban(country, bban):
    """An IBAN whose check digits are right (ISO 13616)."""
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    return "%s%02d%s" % (country, 98 - int(digits) % 97, bban)


def exact(lo):
    """A number just above lo written with seven decimals whatever prints
    it: an odd number of 128ths is exact in binary and in decimal."""
    return "%.7f" % (lo + random.randrange(1, 128, 2) / 128.0)


def make_markers(out):
    random.seed()
    price = "%d.%02d" % (random.randint(1000, 4999), random.randint(1, 99))
    amount = "%.2f" % (round(float(price) * 100) * 20 / 100.0)
    account = iban("DE", "%018d" % random.randrange(10**17, 10**18))
    holder = "Ada %s" % hexid(8)
    m = {
        "vitals.patient": "p-" + hexid(),
        "vitals.pulse": exact(random.randint(130, 240)),
        "vitals.spo2": exact(random.randint(80, 90)),
        "vitals.temp": exact(random.randint(39, 41)),
        "delivery.deliver_to": "Rue %s 4, 1003 Lausanne" % hexid(),
        # As people write them: the bank's own records hold the IBAN in
        # its electronic form and the holder in capitals, so what is found
        # is what the section carried.
        "bank.iban": " ".join(account[i:i + 4] for i in range(0, len(account), 4)),
        "bank.holder": holder,
        "bank.max_amount": "%d.%02d" % (random.randint(100000, 999999), random.randint(0, 99)),
        "pharmacy>bank.amount": amount,
        "bank>wristband.refusal_reason": "insufficient funds (asked %s)" % amount,
    }
    sections = {
        "healthcare": '{"patient": "%s", "pulse": %s, "spo2": %s, "temp": %s}' % (
            m["vitals.patient"], m["vitals.pulse"], m["vitals.spo2"], m["vitals.temp"]),
        "pharmacy": json.dumps({"deliver_to": m["delivery.deliver_to"]}),
        "bank": json.dumps({"iban": m["bank.iban"], "holder": m["bank.holder"],
                            "max_amount": m["bank.max_amount"], "payee": "pharmacy-1"}),
    }
    seed = {"bank": "%s:%s:10000000.00" % (account, holder.upper()),
            "prices": "amoxicillin=%s,bisoprolol=%s,paracetamol=%s" % (price, price, price)}
    json.dump({"markers": m, "sections": sections, "seed": seed}, open(out, "w"), indent=1)


def receipt(path, service, key):
    for line in open(path):
        head, sep, body = line.rstrip("\n").partition(": ")
        if sep and head.startswith(service + " from ") and body.startswith("{"):
            v = json.loads(body).get(key)
            if isinstance(v, str):
                return v
    return None


def children(pid):
    """pid and every process below it."""
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                kids.setdefault(ppid, []).append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


CHUNK = 8 << 20
HUGE = 1 << 30  # a sanitizer's shadow, reserved, not data


def scan(pid, needles):
    """The needles found anywhere in pid's readable memory."""
    found = set()
    longest = max(len(n) for n in needles)
    with open("/proc/%d/maps" % pid) as maps, open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for line in maps:
            f = line.split()
            lo, hi = (int(x, 16) for x in f[0].split("-"))
            if f[1][0] != "r" or hi - lo > HUGE or line.rstrip().endswith(("[vvar]", "[vvar_vclock]", "[vsyscall]")):
                continue
            tail = b""
            for a in range(lo, hi, CHUNK):
                try:
                    mem.seek(a)
                    d = tail + mem.read(min(CHUNK, hi - a))
                except OSError:
                    tail = b""
                    continue
                for n in needles:
                    if n not in found and n in d:
                        found.add(n)
                tail = d[-longest:]
    return found


def check(argv):
    markers = json.load(open(argv[0]))["markers"]
    nodes, pcap, ports, receipts, quiet, logdir = {}, None, None, [], False, None
    i = 1
    while i < len(argv):
        if argv[i] == "--node":
            name, pids = argv[i + 1].split("=")
            nodes[name] = [int(p) for p in pids.split(",")]
            i += 2
        elif argv[i] == "--pcap":
            pcap = argv[i + 1]
            i += 2
        elif argv[i] == "--wire-ports":
            ports = {int(p) for p in argv[i + 1].split(",")}
            i += 2
        elif argv[i] == "--receipts":
            receipts.append(argv[i + 1])
            i += 2
        elif argv[i] == "--logdir":
            logdir = argv[i + 1]
            i += 2
        elif argv[i] == "--quiet":
            quiet = True
            i += 1
        else:
            sys.exit("privacy_matrix.py: unknown argument " + argv[i])
    for field, (svc, key) in RECEIPT_FIELDS.items():
        for r in receipts:
            markers[field] = markers.get(field) or receipt(r, svc, key)
        if not markers.get(field):
            sys.exit("privacy_matrix.py: no receipt named %s's %s" % (svc, key))
    needles = {f: v.encode() for f, v in markers.items()}
    held = {f: set() for f in markers}
    for name, pids in nodes.items():
        for p in {c for pid in pids for c in children(pid)}:
            try:
                got = scan(p, list(needles.values()))
            except OSError as e:
                sys.exit("privacy_matrix.py: cannot read the memory of %s (process %d): %s" % (name, p, e))
            for f, n in needles.items():
                if n in got:
                    held[f].add(name)
    if pcap:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from pcap_grep import streams
        wire = streams(pcap, ports)
        if not any(b'"kind":"section"' in s for s in wire):
            sys.exit("privacy_matrix.py: the capture holds no routed section: it saw nothing")
        for f, n in needles.items():
            if any(n in s for s in wire):
                held[f].add("wire")
    cols = [n for n in NODES if n in nodes] + ["wire"] * bool(pcap)
    bad = []
    width = max(len(f) for f in markers)
    print("%-*s  %s" % (width, "field", "  ".join("%-12s" % c for c in cols)))
    for f in markers:
        cells = []
        for c in cols:
            want, got = c in INTENDED[f], c in held[f]
            cells.append("%-12s" % ("reads" if want and got else "-" if not want and not got else
                                    "LEAK" if got else "MISSING"))
            if want != got:
                bad.append("%s %s: %s" % (f, "leaked to" if got else "not held by", c))
        print("%-*s  %s" % (width, f, "  ".join(cells)))
    if not quiet:
        print()
        for f in markers:
            print("  %-*s  %s: %s" % (width, f, WHAT[f], markers[f]))
    for name in nodes if logdir else []:
        for path in sorted(glob.glob(os.path.join(logdir, name, "*.log"))):
            try:
                log = open(path, "rb").read()
            except OSError:
                continue
            for f, n in needles.items():
                if n in log:
                    bad.append("%s in the log of %s (%s)" % (f, name, os.path.basename(path)))
    for b in bad:
        print("not as intended: " + b)
    return 1 if bad else 0


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "markers":
        make_markers(sys.argv[2])
        return 0
    if len(sys.argv) >= 3 and sys.argv[1] == "check":
        return check(sys.argv[2:])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
