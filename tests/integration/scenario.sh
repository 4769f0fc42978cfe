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
	"$(plugins bank "$(printf '[plugin.bank]\ndata = ../bank-1-data\naccounts = bank.db\nseed = %s:Ada Muster:100.00, %s:Bob Broke:2.00' "$IBAN" "$POOR")")"
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
check "healthcare answers the wristband: referred" answer_is "$WORK/c1" healthcare status referred
check "with the hospital's diagnosis" answer_is "$WORK/c1" healthcare diagnosis "suspected pneumonia"
check "its prescription" answer_is "$WORK/c1" healthcare prescription '{"drug":"amoxicillin","strength":"500 mg","quantity":20}'
check "and that the pharmacy dispensed it" answer_is "$WORK/c1" healthcare dispensed true
check "and the hospital's case, a reference that says nothing else" sh -c "sed -n 's/^healthcare from healthcare-1: //p' '$WORK/c1' | grep -Eq '\"case\":\"case-[0-9a-f]{16}\"'"
check "the pharmacy's receipt reaches the wristband, privately: delivering, 9.00 CHF" \
	sh -c "sed -n 's/^pharmacy from pharmacy-1: //p' '$WORK/c1' | grep -q '\"status\":\"delivering\",\"order\":\"order-[0-9a-f]*\",\"drug\":\"amoxicillin\",\"quantity\":20,\"amount\":\"9.00\",\"currency\":\"CHF\",\"deliver_to\":\"$ADDR\"'"
check "the bank's receipt too: authorised, 9.00 to pharmacy-1" \
	sh -c "sed -n 's/^bank from bank-1: //p' '$WORK/c1' | grep -Eq '^\{\"status\":\"authorised\",\"amount\":\"9.00\",\"payee\":\"pharmacy-1\",\"ref\":\"pay-[0-9a-f]{16}\"\}$'"
check "the bank recorded it under the reference the wristband got" \
	test "$(sqlite3 "$WORK/bank-1-data/bank.db" "SELECT ref FROM payments WHERE mid='m-ada-1'")" = "$(answer "$WORK/c1" bank ref)"
check "the money moved once" test "$(sqlite3 "$WORK/bank-1-data/bank.db" "SELECT balance FROM accounts WHERE iban='$IBAN'")" = 9100
# What each node holds is measured in its memory by privacy_matrix.sh.

# The same message again: answered from the records, nobody acts twice.
send admin-east "$IBAN" "Ada Muster" --message-id m-ada-2 --repeat 2 >"$WORK/c2" 2>&1
check "a message sent twice gets the same answers twice" sh -c "test \"\$(sed -n 1,3p '$WORK/c2')\" = \"\$(sed -n 4,6p '$WORK/c2')\""
check "and the bank recorded one payment" test "$(sqlite3 "$WORK/bank-1-data/bank.db" "SELECT COUNT(*) FROM payments WHERE mid='m-ada-2'")" = 1
check "balance after two payments of 9.00" test "$(sqlite3 "$WORK/bank-1-data/bank.db" "SELECT balance FROM accounts WHERE iban='$IBAN'")" = 8200

# Every node restarted: no session remembers m-ada-1; the bank's own
# records do.
for n in healthcare-1 hospital-1 pharmacy-1 bank-1; do
	sed -i "s/^port = 0\$/port = $(cat "$WORK/$n/spnd.port")/" "$WORK/$n/spnd.conf"
	node_stop "$WORK/$n"; node_start "$WORK/$n"
done
check "the tree is up again" wait_for 10 up
send admin-east "$IBAN" "Ada Muster" --message-id m-ada-1 >"$WORK/c3" 2>&1
diag "$(grep '^bank' "$WORK/c3")"
check "the first message again, after every restart: the bank says it decided it already" \
	test "$(answer "$WORK/c3" bank)" = "{\"status\":\"authorised\",\"amount\":\"9.00\",\"payee\":\"pharmacy-1\",\"ref\":\"$(answer "$WORK/c1" bank ref)\",\"already_decided\":true}"
check "and pays nothing" test "$(sqlite3 "$WORK/bank-1-data/bank.db" "SELECT balance FROM accounts WHERE iban='$IBAN'")" = 8200
# Message ids travel in the clear: another client reusing one that was
# paid gets nothing delivered on the strength of the first decision, even
# once the services' nodes have forgotten the id (they restarted).
for n in hospital-1 pharmacy-1 bank-1; do node_stop "$WORK/$n"; node_start "$WORK/$n"; done
check "the tree is up once more" wait_for 10 up
check "another wristband gets its certificate" client_cert "$WORK/band8" wristband-8 "$P"
client "$WORK/admin-east" --cert "$WORK/band8/node.crt" --key "$WORK/band8/node.key" --message-id m-ada-1 \
	healthcare="$VITALS" +pharmacy='{"deliver_to":"Mallory Lane 666"}' \
	+bank="{\"iban\":\"$POOR\",\"holder\":\"Bob Broke\",\"max_amount\":\"20.00\",\"payee\":\"pharmacy-1\"}" >"$WORK/c10" 2>&1
diag "$(cat "$WORK/c10")"
check "a paid message id reused by another client: the bank refuses it" answer_is "$WORK/c10" bank status refused
check "and the pharmacy does not deliver" answer_is "$WORK/c10" pharmacy status "not delivered"
check "nothing was paid from either account" test "$(sqlite3 "$WORK/bank-1-data/bank.db" "SELECT group_concat(balance) FROM (SELECT balance FROM accounts ORDER BY iban)")" = 8200,200

# A refusal reaches the wristband as a refusal, with its reason, from the
# bank alone; the pharmacy tells it only that it does not deliver.
send healthcare-1 "$POOR" "Bob Broke" >"$WORK/c4" 2>&1
diag "$(cat "$WORK/c4")"
check "the bank refuses a payment the balance does not cover" answer_is "$WORK/c4" bank status refused
check "telling the wristband why" answer_is "$WORK/c4" bank reason "insufficient funds (asked 9.00)"
check "and the pharmacy does not deliver" answer_is "$WORK/c4" pharmacy status "not delivered"
check "without an address in its receipt" sh -c "! grep -q deliver_to '$WORK/c4'"
check "the hospital tells healthcare only that it was not dispensed" answer_is "$WORK/c4" healthcare dispensed false
send healthcare-1 "$IBAN" "Eve Intruder" >"$WORK/c5" 2>&1
check "a holder who does not match the account is refused" answer_is "$WORK/c5" bank reason "the holder's name does not match the account"
PAYEE=pharmacy-9 send healthcare-1 "$IBAN" "Ada Muster" >"$WORK/c8" 2>&1
diag "$(grep '^bank' "$WORK/c8")"
check "bank details written for another payee are refused, the reason for the wristband alone" \
	answer_is "$WORK/c8" bank reason "your bank details are for a payment to another payee"
client "$WORK/healthcare-1" healthcare="$VITALS" +pharmacy="{\"deliver_to\":\"$ADDR\"}" \
	+bank="{\"iban\":\"$IBAN\",\"holder\":\"Ada Muster\",\"max_amount\":\"20.00\"}" >"$WORK/c9" 2>&1
check "and so are bank details from a client without a certificate" \
	answer_is "$WORK/c9" bank reason "bank details from a client without a certificate of the group are not taken"
check "the balance is untouched by both" test "$(sqlite3 "$WORK/bank-1-data/bank.db" "SELECT balance FROM accounts WHERE iban='$IBAN'")" = 8200
client "$WORK/healthcare-1" $BAND healthcare='{"patient":"p-7","pulse":300}' >"$WORK/c6" 2>&1
check "bad vitals are refused with the field named" grep -q "^healthcare from healthcare-1: error plugin_failed: plugin healthcare: vitals: 'pulse' must be a number from 20 to 250" "$WORK/c6"
client "$WORK/healthcare-1" $BAND healthcare='{"patient":"p-8","pulse":70,"spo2":98,"temp":36.8}' >"$WORK/c7" 2>&1
check "healthy vitals involve no hospital" grep -q '^healthcare from healthcare-1: {"patient":"p-8","findings":\[\],"status":"ok"}' "$WORK/c7"
