#!/bin/sh
# Enrollments at the PSP share ledger commits (core/node_issue.c): under a
# burst of concurrent requests, batches form; a refused request in a batch
# does not take the others down; every certificate answered is recorded,
# even when spnd is killed with SIGKILL in the middle of the burst.
. "$top_srcdir/tests/lib.sh"
P="$WORK/psp"; CA="$P/ca/root.crt"
PREP="$top_builddir/tests/bench/bench_prep"
BURST="$PY $top_srcdir/tests/integration/enroll_burst.py"
new_group "$P" batch
printf '\n[http]\nlisten = 127.0.0.1\nport = 0\nport_file = spnd.port\n' >>"$P/spnd.conf"
sed -i 's/^level = info$/level = debug/' "$P/spnd.conf"
sed -i 's/^max_children = 16$/max_children = 100000/' "$P/spnd.conf"
check "the PSP starts" node_start "$P"
check "200 enrollments are prepared (tokens and CSRs)" sh -c "SPN_CA_PASSPHRASE='$SPN_CA_PASSPHRASE_VALUE' '$PREP' enroll '$P/spnd.conf' 200 '$WORK/good' 4"
# Refused ones mixed in: a token whose signature was altered, and a CSR for
# another node id than its token's.
$PY - "$WORK" <<'PY'
import json, sys
w = sys.argv[1]
good = [json.loads(l) for l in open(w + "/good.0")]
bad = []
for i, g in enumerate(good[:20]):
    b = dict(g)
    if i % 2:
        t = b["token"]
        b["token"] = t[:-3] + ("A" if t[-3] != "A" else "B") + t[-2:]
    else:
        b["csr"] = good[(i + 1) % len(good)]["csr"]
    bad.append(json.dumps(b))
open(w + "/bad.0", "w").write("\n".join(bad) + "\n")
# the 20 bodies altered above are not sent as they were
open(w + "/good.0", "w").write("".join(json.dumps(g) + "\n" for g in good[20:]))
PY
$BURST "$(node_url "$P")" "$CA" "$WORK/answers" "$WORK/bad.0" "$WORK/good.0" "$WORK/good.1" "$WORK/good.2" "$WORK/good.3"
check "the 180 good ones are issued (201)" test "$(grep -c '^201 ' "$WORK/answers")" = 180
check "the 20 altered ones are refused, each with its reason" \
	test "$(grep -Ec '^(400|401|403|409) (bad_token|token|denied|bad_csr)' "$WORK/answers")" = 20
grep -Ev "^201 " "$WORK/answers" | cut -f1 | sort | uniq -c | sed "s/^/# /"
check "several shared a commit" grep -Eq 'enrollment\(s\) under one ledger commit' "$P/spnd.log"
diag "$(grep -o '[0-9]* enrollment(s) under one ledger commit' "$P/spnd.log" | sort -n | tail -n 1)"
count_in() { for s in $(awk '$1 == 201 { print $2 }' "$1"); do sqlite3 "$P/ledger.db" "SELECT COUNT(*) FROM certs WHERE serial='$s'"; done | grep -c '^1$'; }
check "each certificate answered is in the ledger" test "$(count_in "$WORK/answers")" = 180
check "and nothing else was issued" test "$(sqlite3 "$P/ledger.db" "SELECT COUNT(*) FROM certs WHERE node_id LIKE 'b%-%'")" = 180

# The same 180 again, at once: refused in the ledger's step, in batches, and
# each refusal names its own request's node (the batch's records are made
# by one thread; their reasons must not cross).
$BURST "$(node_url "$P")" "$CA" "$WORK/again" "$WORK/good.0" "$WORK/good.1" "$WORK/good.2" "$WORK/good.3"
check "sent again, all 180 are refused: the node ids are taken" test "$(grep -c '^409 exists' "$WORK/again")" = 180
check "each refusal names the node of its own request" $PY - "$WORK" <<'PY'
import json, sys
from cryptography import x509
w = sys.argv[1]
bodies = [json.loads(l) for f in ("good.0", "good.1", "good.2", "good.3") for l in open("%s/%s" % (w, f))]
cn = [x509.load_pem_x509_csr(b["csr"].encode()).subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
      for b in bodies]
for line in open(w + "/again"):
    status, i, message = line.rstrip("\n").split("\t")
    want = "node id '%s' already holds" % cn[int(i)]
    assert want in message, (line, want)
PY

# SIGKILL in the middle of a burst: whatever was answered is recorded.
SPN_CA_PASSPHRASE="$SPN_CA_PASSPHRASE_VALUE" "$PREP" enroll "$P/spnd.conf" 2000 "$WORK/more" 4
: >"$WORK/answers2"
$BURST "$(node_url "$P")" "$CA" "$WORK/answers2" "$WORK/more.0" "$WORK/more.1" "$WORK/more.2" "$WORK/more.3" &
i=0
while [ "$(grep -c '^201 ' "$WORK/answers2")" -lt 100 ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
kill -9 "$(cat "$P/pid")"
wait
n=$(grep -c '^201 ' "$WORK/answers2")
check "spnd was killed after $n certificates were answered" test "$n" -ge 100
check "the ledger is consistent" test "$(sqlite3 "$P/ledger.db" 'PRAGMA integrity_check')" = ok
check "every one of them is in the ledger" test "$(count_in "$WORK/answers2")" = "$n"
check "the PSP starts again" node_start "$P"
SPN_CA_PASSPHRASE="$SPN_CA_PASSPHRASE_VALUE" "$PREP" enroll "$P/spnd.conf" 8 "$WORK/after" 1
$BURST "$(node_url "$P")" "$CA" "$WORK/answers3" "$WORK/after.0"
check "and issues again" test "$(grep -c '^201 ' "$WORK/answers3")" = 8
