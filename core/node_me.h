/* The node's own certificate as one immutable value: its text, serial,
 * validity and the identity it binds. A renewal builds a new value and
 * swaps it in; a reader holds the value it took for as long as it uses it,
 * so it sees one certificate whole, never half of one and half of the
 * next, and the old value goes with its last reader. */
#pragma once

#include <gnutls/x509.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "ident.h"
#include "pki_cert.h"

typedef struct {
	spn_ident_t id;
	char serial[SPN_SERIAL_HEX];
	char *pem;
	char *b64; /* its DER in base64: plain HTTP sends it with signed requests */
	time_t not_before, not_after;
	atomic_uint refs; /* node_me.c's alone: readers see the value const */
} spn_node_me_t;

/* The value of crt, whose text is pem (copied), with one reference: the
 * caller's, dropped with spn_node_me_put. */
int spn_node_me_new(gnutls_x509_crt_t crt, const char *pem, const spn_node_me_t **out);

/* One more reference to a value the caller already holds. */
const spn_node_me_t *spn_node_me_hold(const spn_node_me_t *me);

/* Drops a reference; the last one frees the value. NULL does nothing. */
void spn_node_me_put(const spn_node_me_t *me);

/* Where a node keeps its current value. The lock covers reading the
 * pointer and counting the reader in: between the two, a swap could
 * otherwise drop the last reference to what was just read. */
typedef struct {
	pthread_mutex_t lock;
	const spn_node_me_t *cur;
} spn_node_me_slot_t;

void spn_node_me_slot_init(spn_node_me_slot_t *s);
/* The current value with a reference for the caller (NULL while none was
 * set). */
const spn_node_me_t *spn_node_me_slot_get(spn_node_me_slot_t *s);
/* me replaces the current value; the slot takes the caller's reference to
 * me and drops its own to the value before. */
void spn_node_me_slot_set(spn_node_me_slot_t *s, const spn_node_me_t *me);
/* Drops the slot's reference; readers still holding the value keep it. */
void spn_node_me_slot_clear(spn_node_me_slot_t *s);
