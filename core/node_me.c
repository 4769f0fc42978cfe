/* The node's certificate as one reference-counted value, and the slot a
 * renewal swaps it in. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "node_internal.h"

int spn_node_me_new(gnutls_x509_crt_t crt, const char *pem, const spn_node_me_t **out)
{
	spn_node_me_t *me = calloc(1, sizeof(*me));
	int rc;

	*out = NULL;
	if (!me)
		return SPN_ENOMEM;
	atomic_init(&me->refs, 1);
	if (!(me->pem = strdup(pem)))
		rc = SPN_ENOMEM;
	else if ((rc = spn_pki_cert_ident(crt, &me->id)) == 0 && (rc = spn_pki_cert_serial(crt, me->serial)) == 0)
		rc = spn_pki_cert_b64(pem, &me->b64);
	if (rc) {
		spn_node_me_put(me);
		return rc;
	}
	me->not_before = gnutls_x509_crt_get_activation_time(crt);
	me->not_after = gnutls_x509_crt_get_expiration_time(crt);
	*out = me;
	return 0;
}

/* The count is the one part of a value that changes: the value was made
 * writable by spn_node_me_new, readers only see it const. */
const spn_node_me_t *spn_node_me_hold(const spn_node_me_t *me)
{
	atomic_fetch_add(&((spn_node_me_t *)me)->refs, 1);
	return me;
}

void spn_node_me_put(const spn_node_me_t *me)
{
	spn_node_me_t *m = (spn_node_me_t *)me;

	if (!m || atomic_fetch_sub(&m->refs, 1) != 1)
		return;
	free(m->pem);
	free(m->b64);
	free(m);
}

void spn_node_me_slot_init(spn_node_me_slot_t *s)
{
	pthread_mutex_init(&s->lock, NULL);
	s->cur = NULL;
}

const spn_node_me_t *spn_node_me_slot_get(spn_node_me_slot_t *s)
{
	const spn_node_me_t *me;

	pthread_mutex_lock(&s->lock);
	me = s->cur ? spn_node_me_hold(s->cur) : NULL;
	pthread_mutex_unlock(&s->lock);
	return me;
}

void spn_node_me_slot_set(spn_node_me_slot_t *s, const spn_node_me_t *me)
{
	const spn_node_me_t *old;

	pthread_mutex_lock(&s->lock);
	old = s->cur;
	s->cur = me;
	pthread_mutex_unlock(&s->lock);
	spn_node_me_put(old);
}

void spn_node_me_slot_clear(spn_node_me_slot_t *s)
{
	spn_node_me_slot_set(s, NULL);
	pthread_mutex_destroy(&s->lock);
}

const spn_node_me_t *spn_node_me(spn_node_t *n)
{
	return spn_node_me_slot_get(&n->me);
}
