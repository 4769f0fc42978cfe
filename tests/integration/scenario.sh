#!/bin/sh
# The reference scenario end to end on real daemons, each business service
# a plugin: a wristband sends one message, vitals for healthcare, and,
# carried along, a delivery address for the pharmacy and bank details for
# the bank. healthcare refers to the hospital, which prescribes, the
# pharmacy asks the bank for payment, the bank pays.
#   psp ─┬─ admin-care ─┬─ healthcare-1, hospital-1
#        ├─ admin-east ─── pharmacy-1
#        └─ bank-1
. "$top_srcdir/tests/lib.sh"
P="$WORK/psp"; CA="$P/ca/root.crt"
IBAN=DE02120300000000202051
POOR=GB29NWBK60161331926819
ADDR="Rue de la Gare 4, 1003 Lausanne"
check "the PSP starts" psp_start "$P" care
check "admin-care joins" join "$WORK/admin-care" "$P" admin 8 ""
check "admin-east joins" join "$WORK/admin-east" "$P" admin 8 ""
check "healthcare-1 joins with its plugin" join "$WORK/healthcare-1" "$WORK/admin-care" spn 6 healthcare "$(plugins healthcare)"
check "hospital-1 joins with its plugin" join "$WORK/hospital-1" "$WORK/admin-care" spn 6 hospital "$(plugins hospital)"
check "pharmacy-1 joins with its plugin" join "$WORK/pharmacy-1" "$WORK/admin-east" spn 5 pharmacy "$(plugins pharmacy)"
check "bank-1 joins with its plugin and its accounts" join "$WORK/bank-1" "$P" spn 7 bank \
	"$(plugins bank "$(printf '[plugin.bank]\naccounts = bank.db\nseed = %s:Ada Muster:100.00, %s:Bob Broke:2.00' "$IBAN" "$POOR")")"
check "the wristband gets its certificate" client_cert "$WORK/band" wristband-7 "$P"
up() { for n in healthcare-1 hospital-1 pharmacy-1 bank-1; do registry_has "$P" $n || return 1; done; }
check "the tree is up" wait_for 10 up
BAND="--cert $WORK/band/node.crt --key $WORK/band/node.key"
VITALS='{"patient":"p-1042","pulse":128,"spo2":90,"temp":39.2}'
send() { # send ENTRY IBAN HOLDER [ARGS...]
	entry=$1 iban=$2 holder=$3; shift 3
	client "$WORK/$entry" $BAND "$@" healthcare="$VITALS" +pharmacy="{\"deliver_to\":\"$ADDR\"}" \
		+bank="{\"iban\":\"$iban\",\"holder\":\"$holder\",\"max_amount\":\"20.00\",\"payee\":\"${PAYEE:-pharmacy-1}\"}"
}
send admin-east "$IBAN" "Ada Muster" --message-id m-ada-1 >"$WORK/c1" 2>&1
diag "$(cat "$WORK/c1")"
check "healthcare answers the wristband: referred, with the hospital's diagnosis" \
	grep -q '^healthcare from healthcare-1: {"patient":"p-1042","findings":\["tachycardia","hypoxemia","fever"\],"status":"referred","hospital":{"patient":"p-1042","diagnosis":"suspected pneumonia"' "$WORK/c1"
check "the pharmacy's receipt reaches the wristband: delivering, 9.00 CHF" \
	grep -q '^pharmacy from pharmacy-1: .*"amount":"9.00","currency":"CHF","status":"delivering","deliver_to":"Rue de la Gare 4, 1003 Lausanne"' "$WORK/c1"
check "the bank's receipt too: authorised, to pharmacy-1" \
	grep -q '^bank from bank-1: {"status":"authorised","amount":"9.00","payee":"pharmacy-1","ref":1}' "$WORK/c1"

# What each node could read, from its own log.
only_in() { # only_in NODE TEXT: TEXT is in NODE's log and no other's
	grep -qF "$2" "$WORK/$1/spnd.log" || return 1
	for d in "$WORK"/*/spnd.log; do [ "$d" = "$WORK/$1/spnd.log" ] || ! grep -qF "$2" "$d" || return 1; done
}
check "healthcare-1 read the vitals, from the wristband (verified)" grep -q 'plugin healthcare: read vitals of p-1042 from wristband-7: pulse 128, spo2 90, temp 39.2' "$WORK/healthcare-1/spnd.log"
check "hospital-1 read the referral, from healthcare-1" grep -q 'plugin hospital: read a referral of p-1042 from healthcare-1: \["tachycardia","hypoxemia","fever"\]' "$WORK/hospital-1/spnd.log"
check "pharmacy-1 read the prescription, from hospital-1" grep -q 'plugin pharmacy: read a prescription for p-1042 from hospital-1: 20 x amoxicillin 500 mg' "$WORK/pharmacy-1/spnd.log"
check "and the address the wristband wrote for it" grep -q 'plugin pharmacy: read the delivery address wristband-7 wrote for the pharmacy' "$WORK/pharmacy-1/spnd.log"
check "bank-1 read the payment request, from pharmacy-1" grep -q 'plugin bank: read a payment request from pharmacy-1: 9.00 for p-1042' "$WORK/bank-1/spnd.log"
check "and the bank details the wristband wrote for it" grep -q "plugin bank: read the bank details wristband-7 wrote for the bank: $IBAN, Ada Muster" "$WORK/bank-1/spnd.log"
check "no node saw the bank details but the bank" only_in bank-1 "$IBAN"
check "no node saw the address but the pharmacy" only_in pharmacy-1 "$ADDR"
check "the money moved once" test "$(sqlite3 "$WORK/bank-1/bank.db" "SELECT balance FROM accounts WHERE iban='$IBAN'")" = 9100

# The same message again: answered from the records, nobody acts twice.
send admin-east "$IBAN" "Ada Muster" --message-id m-ada-2 --repeat 2 >"$WORK/c2" 2>&1
check "a message sent twice gets the same answers twice" sh -c "test \"\$(sed -n 1,3p '$WORK/c2')\" = \"\$(sed -n 4,6p '$WORK/c2')\""
check "and the bank paid it once" test "$(grep -c 'payment [0-9]* for message m-ada-2' "$WORK/bank-1/spnd.log")" = 1
check "balance after two payments of 9.00" test "$(sqlite3 "$WORK/bank-1/bank.db" "SELECT balance FROM accounts WHERE iban='$IBAN'")" = 8200

# Every node restarted: no session remembers m-ada-1; the bank's own
# records do.
for n in healthcare-1 hospital-1 pharmacy-1 bank-1; do
	sed -i "s/^port = 0\$/port = $(cat "$WORK/$n/spnd.port")/" "$WORK/$n/spnd.conf"
	node_stop "$WORK/$n"; node_start "$WORK/$n"
done
check "the tree is up again" wait_for 10 up
send admin-east "$IBAN" "Ada Muster" --message-id m-ada-1 >"$WORK/c3" 2>&1
diag "$(grep '^bank' "$WORK/c3")"
check "the first message again, after every restart: the bank says it decided it already" grep -q '^bank from bank-1: {"status":"authorised","amount":"9.00","payee":"pharmacy-1","ref":1,"already_decided":true}' "$WORK/c3"
check "and pays nothing" test "$(sqlite3 "$WORK/bank-1/bank.db" "SELECT balance FROM accounts WHERE iban='$IBAN'")" = 8200

# A refusal reaches the wristband as a refusal, with its reason.
send healthcare-1 "$POOR" "Bob Broke" >"$WORK/c4" 2>&1
check "the bank refuses a payment the balance does not cover" grep -q '^bank from bank-1: {"status":"refused","reason":"insufficient funds (asked 9.00)"' "$WORK/c4"
check "and the pharmacy does not deliver, saying why" grep -q '^pharmacy from pharmacy-1: .*"status":"not delivered","reason":"payment refused: insufficient funds (asked 9.00)"' "$WORK/c4"
send healthcare-1 "$IBAN" "Eve Intruder" >"$WORK/c5" 2>&1
check "a holder who does not match the account is refused" grep -q '"status":"refused","reason":"the holder'"'"'s name does not match the account"' "$WORK/c5"
PAYEE=pharmacy-9 send healthcare-1 "$IBAN" "Ada Muster" >"$WORK/c8" 2>&1
check "bank details written for another payee are refused" grep -q "^bank from bank-1: error plugin_failed: plugin bank: the patient's bank details are for a payment to pharmacy-9, not to pharmacy-1" "$WORK/c8"
client "$WORK/healthcare-1" healthcare="$VITALS" +pharmacy="{\"deliver_to\":\"$ADDR\"}" \
	+bank="{\"iban\":\"$IBAN\",\"holder\":\"Ada Muster\",\"max_amount\":\"20.00\"}" >"$WORK/c9" 2>&1
check "and so are bank details from a client without a certificate" grep -q "^bank from bank-1: error plugin_failed: plugin bank: bank details from a client without a certificate of the group are not taken" "$WORK/c9"
check "the balance is untouched by both" test "$(sqlite3 "$WORK/bank-1/bank.db" "SELECT balance FROM accounts WHERE iban='$IBAN'")" = 8200
client "$WORK/healthcare-1" $BAND healthcare='{"patient":"p-7","pulse":300}' >"$WORK/c6" 2>&1
check "bad vitals are refused with the field named" grep -q "^healthcare from healthcare-1: error plugin_failed: plugin healthcare: vitals: 'pulse' must be a number from 20 to 250" "$WORK/c6"
client "$WORK/healthcare-1" $BAND healthcare='{"patient":"p-8","pulse":70,"spo2":98,"temp":36.8}' >"$WORK/c7" 2>&1
check "healthy vitals involve no hospital" grep -q '^healthcare from healthcare-1: {"patient":"p-8","findings":\[\],"status":"ok"}' "$WORK/c7"
