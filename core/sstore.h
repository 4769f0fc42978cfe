/* A provider's sessions (doc/protocol.md §5): the keys it agreed with
 * clients, held in memory with an expiry, a message budget and a bound on
 * their number. Per session it keeps a sliding window of the sequence
 * numbers seen and the answers to the latest message ids, so that a replay
 * is refused and a retried message is answered again without being acted
 * on twice. A session whose client's certificate is revoked is closed at
 * once: its keys are wiped and a tombstone answers for it until it would
 * have expired. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ident.h"
#include "pki_cert.h"

#define SPN_SSTORE_KEY 32
#define SPN_SSTORE_WINDOW 64 /* sequence numbers remembered below the highest */
#define SPN_SSTORE_RING 8    /* answers kept per session */
#define SPN_SSTORE_MIDS 16384 /* message ids remembered across sessions */

typedef struct spn_sstore spn_sstore_t;

#define SPN_SSTORE_ORIGIN 128 /* an anonymous client's origin, with its NUL */

/* Every session is accounted to an owner: the certificate that signed its
 * request, or for an anonymous client its origin (the entry node and the
 * address it came from). Owners share the store fairly: each holds at
 * most its share of sessions, anonymous ones together at most their
 * share of the table, and the heaviest anonymous owner gives up its
 * least recently used idle session first; answers are kept for retries
 * in a common budget from which the owner holding the most gives up its
 * oldest. */
typedef struct {
	unsigned long max;          /* sessions held at once */
	unsigned long ttl_s;        /* a session's life from its offer */
	unsigned long budget;       /* messages a session may carry */
	size_t answer_bytes;        /* answers kept, over all sessions */
	unsigned long per_client;   /* sessions one anonymous origin may hold */
	unsigned long per_certificate; /* sessions one certificate may hold */
	unsigned long anonymous;    /* sessions anonymous clients may hold together */
	unsigned long inflight;     /* messages one owner may have in flight */
} spn_sstore_limits_t;

/* What a message may use of its session: copied out, so that the session
 * may expire while the message is handled. Clear it with
 * spn_sstore_keys_clear, which wipes the keys. */
typedef struct {
	char service[SPN_SERVICE_MAX + 1];
	char client[SPN_NAME_MAX + 1];  /* verified by certificate; "" if anonymous */
	char serial[SPN_SERIAL_HEX];    /* of that certificate, lowercase hex; "" if anonymous */
	uint8_t to_provider[SPN_SSTORE_KEY], to_client[SPN_SSTORE_KEY];
	time_t expires;
} spn_sstore_keys_t;

int spn_sstore_new(const spn_sstore_limits_t *limits, spn_sstore_t **out);
void spn_sstore_free(spn_sstore_t *s);

/* A new session, accounted to the certificate k->serial or, when that is
 * empty, to the anonymous origin. Expired sessions are dropped first; then
 * an owner at its share, or an anonymous client while the anonymous share
 * or the table is full, makes room by dropping an idle session (its own
 * least recently used, or the heaviest anonymous owner's). SPN_EEXIST when
 * the id is taken, SPN_EBUSY when no idle session can make room. */
int spn_sstore_add(spn_sstore_t *s, const char *id, const spn_sstore_keys_t *k, const char *origin, time_t now);

/* The keys of session id: SPN_ESESSION when it is unknown, SPN_EEXPIRED
 * when its time is up (it is dropped), SPN_EREVOKED when it was closed for
 * a revoked certificate. */
int spn_sstore_keys(spn_sstore_t *s, const char *id, time_t now, spn_sstore_keys_t *out);

/* Admits an authenticated message (mid, seq) by author to session id. Returns 0 with
 * *status 0 when it is new: act on it, then spn_sstore_finish. Returns 0
 * with *status and *body (the caller's to free) when mid was answered
 * before: send that again, act on nothing. Otherwise SPN_ESESSION,
 * SPN_EREVOKED (closed for a revoked certificate), SPN_EREPLAY (sequence
 * number seen or too old), SPN_ELIMIT (budget spent) or SPN_EBUSY (mid is
 * being handled now, or its owner has its share of messages in flight). */
int spn_sstore_begin(spn_sstore_t *s, const char *id, const char *author, const char *mid, uint64_t seq,
		     unsigned *status, char **body, size_t *len);

/* Records the answer to mid (copied) for retries. */
void spn_sstore_finish(spn_sstore_t *s, const char *id, const char *mid, unsigned status, const char *body,
		       size_t len);

/* Closes every session whose certificate serial is_revoked says is
 * revoked (a CRL was taken): its keys and answers are wiped at once, and a
 * tombstone keeps its id until it would have expired, so that a section
 * for it is told SPN_EREVOKED. Tombstones are bounded by the session limit;
 * past it a closed session is forgotten outright. Returns how many were
 * closed. */
size_t spn_sstore_close_revoked(spn_sstore_t *s, bool (*is_revoked)(const char *serial, void *user), void *user);

/* Open sessions (tombstones not counted). */
size_t spn_sstore_count(spn_sstore_t *s);

/* What the store holds, for metrics and tests. */
typedef struct {
	size_t sessions, anonymous, owners, answer_bytes, inflight;
	size_t evicted;             /* sessions dropped to make room */
	size_t answers_evicted;     /* answers dropped to make room */
	uint64_t opened, expired;   /* sessions ever opened, and dropped at their expiry */
} spn_sstore_stats_t;
void spn_sstore_stats(spn_sstore_t *s, spn_sstore_stats_t *out);

void spn_sstore_keys_clear(spn_sstore_keys_t *k);
