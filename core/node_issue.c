/* Enrollments at the PSP: the work of many at once, their records together.
 * Each request checks its CSR and token and has its certificate signed in
 * its own thread (spn_ca_prepare_csr), alongside the others. Only the
 * ledger's part is one at a time, and each certificate is durable there
 * before it is handed out; making it durable is an fsync that costs more
 * than the rest. So the records that wait while one commit is under way go
 * together: the first of them takes all, records each in a savepoint of one
 * transaction (a refusal rolls back that request alone) and commits once;
 * then every one of them answers. Nothing is answered before its commit. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "ledger.h"
#include "log.h"
#include "node_internal.h"

/* More would only hold the first of them longer. */
#define BATCH_MAX 64

typedef struct waiter {
	struct waiter *next;
	spn_ca_pending_t *pending;
	spn_ca_issued_t *out;
	int rc;
	char why[1024];  /* the refusal, made in the leader's thread */
	bool done;
} waiter_t;

struct spn_node_issuing {
	pthread_mutex_t lock;
	pthread_cond_t done;
	waiter_t *head, **tail;
	bool leading;  /* a batch is being issued */
};

int spn_node_issuing_new(spn_node_t *n)
{
	struct spn_node_issuing *q = calloc(1, sizeof(*q));

	if (!q)
		return SPN_ENOMEM;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->done, NULL);
	q->tail = &q->head;
	n->issuing = q;
	return 0;
}

void spn_node_issuing_free(spn_node_t *n)
{
	struct spn_node_issuing *q = n->issuing;

	if (!q)
		return;
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->done);
	free(q);
	n->issuing = NULL;
}

/* Records a batch under the CA lock: one transaction, one commit. */
static void record_batch(spn_node_t *n, waiter_t *batch)
{
	spn_ledger_t *l = spn_ca_ledger(n->ca);
	size_t issued = 0, count = 0;
	int rc;

	pthread_mutex_lock(&n->ca_lock);
	rc = spn_ledger_begin(l);
	for (waiter_t *w = batch; w; w = w->next, count++) {
		w->rc = rc ? rc : spn_ca_pending_record(n->ca, w->pending, w->out);
		if (w->rc)
			snprintf(w->why, sizeof(w->why), "%s", spn_err_detail(w->rc));
		issued += w->rc == 0;
		/* An error SQLite answered by rolling everything back takes the
		 * records made so far with it, and leaves nothing to go on in. */
		if (rc == 0 && !spn_ledger_active(l))
			rc = spn_err(SPN_ELEDGER, "the ledger's transaction was rolled back: %s", spn_err_detail(w->rc));
	}
	if (rc == 0)
		rc = spn_ledger_commit(l);
	if (rc) {
		char cause[sizeof(batch->why)];
		snprintf(cause, sizeof(cause), "%s", spn_err_detail(rc));
		spn_ledger_rollback(l);
		spn_log_error("%zu certificate(s) not recorded, none handed out: %s", issued, cause);
		for (waiter_t *w = batch; w; w = w->next)
			if (w->rc == 0) {
				spn_ca_issued_clear(w->out);
				w->rc = spn_err(rc == SPN_ELEDGERLOST ? rc : SPN_ELEDGER,
						"the certificate could not be recorded in the ledger (%s); nothing was "
						"issued, the token can be used again", cause);
				snprintf(w->why, sizeof(w->why), "%s", spn_err_detail(w->rc));
			}
	}
	pthread_mutex_unlock(&n->ca_lock);
	if (count > 1)
		spn_log_debug("%zu enrollment(s) under one ledger commit, %zu issued", count, issued);
}

int spn_node_issue_csr(spn_node_t *n, const char *csr, const char *token, spn_ca_issued_t *out)
{
	struct spn_node_issuing *q = n->issuing;
	waiter_t me = {.out = out};
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = spn_ca_prepare_csr(n->ca, csr, strlen(csr), token, strlen(token), &n->ca_lock, &me.pending)))
		return rc;
	pthread_mutex_lock(&q->lock);
	*q->tail = &me;
	q->tail = &me.next;
	while (!me.done) {
		if (q->leading) {
			pthread_cond_wait(&q->done, &q->lock);
			continue;
		}
		/* Lead: take up to BATCH_MAX from the front (this one among them
		 * or not), issue them, and wake their owners. */
		waiter_t *batch = q->head, *last = batch;
		for (size_t k = 1; k < BATCH_MAX && last->next; k++)
			last = last->next;
		q->head = last->next;
		if (!q->head)
			q->tail = &q->head;
		last->next = NULL;
		q->leading = true;
		pthread_mutex_unlock(&q->lock);
		record_batch(n, batch);
		pthread_mutex_lock(&q->lock);
		for (waiter_t *w = batch, *next; w; w = next) {
			next = w->next;
			w->done = true;
		}
		q->leading = false;
		pthread_cond_broadcast(&q->done);
	}
	pthread_mutex_unlock(&q->lock);
	/* Each owner tells the hooks of its own, so that a slow one holds up
	 * no other enrollment. */
	if (me.rc == 0)
		spn_ca_pending_announce(n->ca, me.pending);
	spn_ca_pending_free(n->ca, me.pending);
	return me.rc ? spn_err(me.rc, "%s", me.why) : 0;
}
