#!/bin/sh
# Pseudo-CSR subject attributes and named certificate templates on a real
# spnd PSP: the issued subject as openssl and certtool read it, a template's
# shorter validity and fewer services in the certificate and its name in the
# ledger, templates that would widen their profile refused with the file,
# section and key, and templates the token names but the CA cannot honour
# refused at enrollment with a status and a JSON error while spnd serves on.
. "$top_srcdir/tests/lib.sh"
G="$WORK/g"; C="$G/spnd.conf"; CA="$G/ca/root.crt"
new_group "$G" demo
cat >>"$C" <<'EOF'

[template.ward-short]
role = spn
validity = 1d
services = echo
ext_key_usage = server_auth, client_auth

[template.kiosk]
role = client
validity = 2h
EOF
check "spnd --check-config accepts narrowing templates" "$SPND" --check-config -c "$C"
check "spnd starts as the PSP" start_spnd "$C"
U="https://127.0.0.1:$PORT"

# --- subject attributes ------------------------------------------------------
"$SPNCTL" keygen -o "$WORK/band.key" 2>/dev/null
openssl pkey -in "$WORK/band.key" -pubout -out "$WORK/band.pub"
pseudo() { # ID TOKEN SUBJECT_JSON
	$PY -c "import json,sys; print(json.dumps({'request': {'node_id': sys.argv[1], 'public_key': open(sys.argv[4]).read(), 'subject': json.loads(sys.argv[3])}, 'token': sys.argv[2]}))" \
		"$1" "$2" "$3" "$WORK/band.pub" >"$WORK/pseudo.json"
}
SUBJ='{"CN":"band-7","O":"demo","OU":"Ward 3","C":"DE","ST":"Bavaria","L":"Munich","E":"ops@clinic.example","GN":"Arnie","SN":"S."}'
tok=$(ctl token -c "$C" --id band-7 --role client --trust 1)
pseudo band-7 "$tok" "$SUBJ"
is "pseudo-CSR with subject attributes" 201 "" -X POST --json @"$WORK/pseudo.json" "$U/v1/enroll/pseudo"
$PY -c "import json; open('$WORK/band.crt','w').write(json.load(open('$WORK/body'))['certificate'])"
check "openssl reads the subject the request asked for" test \
	"$(openssl x509 -in "$WORK/band.crt" -noout -subject -nameopt RFC2253)" = \
	"subject=SN=S.,GN=Arnie,emailAddress=ops@clinic.example,L=Munich,ST=Bavaria,C=DE,OU=Ward 3,O=demo,CN=band-7"
check "certtool reads the same subject" sh -c "certtool -i --infile '$WORK/band.crt' | grep -Fq 'Subject: surName=S.,givenName=Arnie,EMAIL=ops@clinic.example,L=Munich,ST=Bavaria,C=DE,OU=Ward 3,O=demo,CN=band-7'"
check "and it verifies against the root" openssl verify -CAfile "$CA" "$WORK/band.crt"

tok=$(ctl token -c "$C" --id band-8 --role client --trust 1)
pseudo band-8 "$tok" '{"CN":"someone-else"}'
is "a CN other than the node id: 403 policy" 403 policy -X POST --json @"$WORK/pseudo.json" "$U/v1/enroll/pseudo"
pseudo band-8 "$tok" '{"O":"another-group"}'
is "an O other than the group: 403 policy" 403 policy -X POST --json @"$WORK/pseudo.json" "$U/v1/enroll/pseudo"
pseudo band-8 "$tok" '{"C":"My City"}'
is "a country that is not two upper-case letters: 400 bad_csr" 400 bad_csr -X POST --json @"$WORK/pseudo.json" "$U/v1/enroll/pseudo"
check "the answer names the attribute" grep -q 'subject C' "$WORK/body"
pseudo band-8 "$tok" '{"DNS":"band-8.example"}'
is "an unknown attribute: 400 bad_csr" 400 bad_csr -X POST --json @"$WORK/pseudo.json" "$U/v1/enroll/pseudo"
check "the answer names it" grep -q "unknown attribute 'DNS'" "$WORK/body"
pseudo band-8 "$tok" "{\"OU\":\"$(head -c 65 /dev/zero | tr '\0' u)\"}"
is "an OU of 65 characters: 400 bad_csr" 400 bad_csr -X POST --json @"$WORK/pseudo.json" "$U/v1/enroll/pseudo"
pseudo band-8 "$tok" "{\"OU\":\"$(head -c 64 /dev/zero | tr '\0' u)\"}"
is "the token refused four times still works: an OU of 64" 201 "" -X POST --json @"$WORK/pseudo.json" "$U/v1/enroll/pseudo"

# --- templates -----------------------------------------------------------------
"$SPNCTL" keygen -o "$WORK/w.key" 2>/dev/null
csr_for() { # ID TOKEN
	"$SPNCTL" csr --key "$WORK/w.key" --id "$1" --name 127.0.0.1 -o "$WORK/$1.csr" &&
	$PY -c "import json,sys; print(json.dumps({'csr': open(sys.argv[1]).read(), 'token': sys.argv[2]}))" \
		"$WORK/$1.csr" "$2" >"$WORK/enroll.json"
}
tok=$(ctl token -c "$C" --id ward-1 --role spn --trust 3 --services echo,bank --template ward-short)
check "the token carries the template, signed" sh -c "echo '$tok' | cut -d. -f2 | tr '_-' '/+' | base64 -d 2>/dev/null | grep -q '\"tpl\":\"ward-short\"'"
csr_for ward-1 "$tok"
is "enrollment under template ward-short" 201 "" -X POST --json @"$WORK/enroll.json" "$U/v1/enroll"
# answered_cert FILE: the certificate of the last answer, kept in FILE;
# prints its lifetime in seconds.
answered_cert() {
	$PY -c "import json,sys; open(sys.argv[1],'w').write(json.load(open('$WORK/body'))['certificate'])" "$1"
	echo $(($(date -d "$(openssl x509 -in "$1" -noout -enddate | cut -d= -f2)" +%s) -
		$(date -d "$(openssl x509 -in "$1" -noout -startdate | cut -d= -f2)" +%s)))
}
check "validity is the template's 1d, not the profile's 3d" test "$(answered_cert "$WORK/ward.crt")" = $((86400 + 60))
check "services are the token's narrowed to the template's (echo, not bank)" sh -c \
	"openssl x509 -in '$WORK/ward.crt' -noout -ext subjectAltName | grep -Fq 'URI:spn://demo/ward-1?role=spn&trust=3&services=echo&parent=psp'"
serial=$(openssl x509 -in "$WORK/ward.crt" -noout -serial | cut -d= -f2 | tr A-F a-f)
check "the ledger's issue event names the template" test \
	"$(sqlite3 "$G/ledger.db" "SELECT detail FROM events WHERE kind='issue' AND serial='$serial'")" = \
	"role=spn trust=3 by=psp template=ward-short"
# A renewal goes on as the certificate was, not as the wider profile.
"$SPNCTL" csr --key "$WORK/w.key" --id ward-1 --name 127.0.0.1 -o "$WORK/ward-renew.csr"
$PY -c "import json,sys; print(json.dumps({'csr': open(sys.argv[1]).read(), 'certificate': open(sys.argv[2]).read()}))" \
	"$WORK/ward-renew.csr" "$WORK/ward.crt" >"$WORK/renew.json"
is "the ward's certificate renews" 201 "" --cert "$WORK/ward.crt" --key "$WORK/w.key" -X POST --json @"$WORK/renew.json" \
	"$U/v1/renew"
check "the renewed certificate keeps the template's 1d, not the profile's 3d" \
	test "$(answered_cert "$WORK/ward2.crt")" = $((86400 + 60))
check "and its services" sh -c \
	"openssl x509 -in '$WORK/ward2.crt' -noout -ext subjectAltName | grep -Fq 'services=echo&parent=psp'"
refuse "spnctl refuses to mint a token with a template of another role" "template 'ward-short' is for the role spn" \
	ctl token -c "$C" --id c-1 --role client --template ward-short
refuse "and with a template that is not configured" "template 'nosuch'.*not configured" \
	ctl token -c "$C" --id c-1 --role client --template nosuch

# Tokens minted, then the configuration changes under them: the CA holds
# the token to the templates it has when the node enrolls.
tok_role=$(ctl token -c "$C" --id c-2 --role client --trust 1 --template kiosk)
tok_gone=$(ctl token -c "$C" --id c-3 --role client --trust 1 --template kiosk)
kill -TERM $SPND_PID; wait $SPND_PID
sed -i 's/^\[template.kiosk\]/[template.kiosk-old]/' "$C"
printf '\n[template.kiosk]\nrole = spn\nvalidity = 2h\n' >>"$C"
check "spnd starts again" start_spnd "$C"
U="https://127.0.0.1:$PORT"
csr_for c-2 "$tok_role"
is "a token whose template is now for another role: 403 policy" 403 policy -X POST --json @"$WORK/enroll.json" "$U/v1/enroll"
check "the answer says which role" grep -q "template 'kiosk' is for the role spn" "$WORK/body"
kill -TERM $SPND_PID; wait $SPND_PID
sed -i '/^\[template.kiosk\]/,$d' "$C"
check "spnd starts once more" start_spnd "$C"
U="https://127.0.0.1:$PORT"
csr_for c-3 "$tok_gone"
is "a token whose template is gone: 403 policy" 403 policy -X POST --json @"$WORK/enroll.json" "$U/v1/enroll"
check "the answer names the template" grep -q "template 'kiosk', which is not configured" "$WORK/body"
tok=$(ctl token -c "$C" --id c-4 --role client --trust 1 --template kiosk-old)
csr_for c-4 "$tok"
is "spnd serves on: the next enrollment works" 201 "" -X POST --json @"$WORK/enroll.json" "$U/v1/enroll"
check "nothing was issued for the refused tokens" test "$(sqlite3 "$G/ledger.db" "SELECT COUNT(*) FROM certs WHERE node_id IN ('c-2','c-3')")" = 0

# --- templates that would widen their role's profile -------------------------
wide() { # NAME BODY: a copy of the configuration with one more template
	cp "$C" "$WORK/$1.conf"
	printf '\n[template.%s]\n%s\n' "$1" "$2" >>"$WORK/$1.conf"
}
wide longer 'role = spn
validity = 4d'
refuse "a template longer than its profile: spnd --check-config" "longer.conf(:[0-9]+)?: \[template.longer\] validity: '4d' is longer than \[profile.spn\]" \
	"$SPND" --check-config -c "$WORK/longer.conf"
refuse "and spnd does not start" "longer.conf(:[0-9]+)?: \[template.longer\] validity" env SPN_CA_PASSPHRASE="$SPN_CA_PASSPHRASE_VALUE" "$SPND" -c "$WORK/longer.conf"
refuse "and spnctl refuses the configuration" "longer.conf(:[0-9]+)?: \[template.longer\] validity" ctl list -c "$WORK/longer.conf"
wide usage 'role = spn
key_usage = digital_signature, non_repudiation'
refuse "a template with an extra key usage" "usage.conf(:[0-9]+)?: \[template.usage\] key_usage: .* has a usage not in \[profile.spn\]" \
	"$SPND" --check-config -c "$WORK/usage.conf"
wide eku 'role = client
ext_key_usage = server_auth'
refuse "a template with an extra extended key usage" "eku.conf(:[0-9]+)?: \[template.eku\] ext_key_usage" ctl crl -c "$WORK/eku.conf"
wide noeku 'role = client
ext_key_usage ='
refuse "a template with no extended key usage at all (any purpose)" \
	"noeku.conf(:[0-9]+)?: \[template.noeku\] ext_key_usage: empty" "$SPND" --check-config -c "$WORK/noeku.conf"
wide noku 'role = client
key_usage ='
refuse "a template with no key usage at all" "noku.conf(:[0-9]+)?: \[template.noku\] key_usage: (must not be )?empty" \
	"$SPND" --check-config -c "$WORK/noku.conf"
cp "$C" "$WORK/profile-noeku.conf"
sed -i '/^\[profile.client\]/,/^\[/s/^ext_key_usage = .*/ext_key_usage =/' "$WORK/profile-noeku.conf"
refuse "and a profile with none" "profile-noeku.conf(:[0-9]+)?: \[profile.client\] ext_key_usage: empty" \
	"$SPND" --check-config -c "$WORK/profile-noeku.conf"
wide norole 'validity = 1h'
refuse "a template without a role" "norole.conf(:[0-9]+)?: \[template.norole\] role: required" "$SPND" --check-config -c "$WORK/norole.conf"
wide psp 'role = psp'
refuse "a template for the PSP" "psp.conf(:[0-9]+)?: \[template.psp\] role" "$SPND" --check-config -c "$WORK/psp.conf"
wide badsvc 'role = spn
services = echo, Bad!'
refuse "a template with a bad service name" "badsvc.conf(:[0-9]+)?: \[template.badsvc\] services" "$SPND" --check-config -c "$WORK/badsvc.conf"
is "still serving" 200 "" "$U/v1/health"
