/* A provider's sessions: a balanced tree by session id (ids are chosen by
 * clients, so no hash an attacker could flood), and a list in order of
 * creation, which with one lifetime for all is the order of expiry.
 * Sessions closed for a revoked certificate stay in both as tombstones,
 * without keys or answers, until that expiry. Each owner (sstore.h) keeps
 * its open sessions in order of use and its kept answers in order of age;
 * two heaps find the anonymous owner holding the most sessions and the
 * owner holding the most answer bytes, the ones that give way. */
#include "config.h"

#include <pthread.h>
#include <search.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "heap.h"
#include "mem.h"
#include "sstore.h"

typedef struct owner owner_t;

typedef struct answer {
	char mid[SPN_ID_MAX + 1];
	unsigned status; /* 0: being handled */
	char *body;      /* NULL when it was not kept (answer_bytes) */
	size_t len;
	struct answer *older, *newer; /* the owner's kept answers */
} answer_t;

/* A message id acted on, whatever the session: a client that opens a new
 * session and sends the same message again (it was told its session was
 * gone, perhaps by a node on the path that lied) is not acted on twice. */
typedef struct seen_mid {
	char key[SPN_SERVICE_MAX + 1 + SPN_ID_MAX + 1 + SPN_ID_MAX + 1]; /* service "/" author "/" mid */
	char sid[SPN_ID_MAX + 1];
	struct seen_mid *next;
} seen_mid_t;

typedef struct sess {
	char id[SPN_ID_MAX + 1];
	spn_sstore_keys_t k;
	unsigned long used;
	uint64_t top, bits; /* bit i: top - i was seen */
	bool any;
	answer_t *ring;     /* made at the first message */
	unsigned ring_next;
	bool closed;        /* a tombstone: its certificate was revoked */
	unsigned inflight;  /* its messages being handled */
	struct sess *prev, *next;   /* all sessions, in order of expiry */
	owner_t *owner;
	struct sess *used_prev, *used_next; /* the owner's open ones, in order of use */
} sess_t;

struct owner {
	char key[2 + SPN_SSTORE_ORIGIN]; /* "c:" serial, or "a:" origin */
	bool anon;
	size_t refs;                /* sessions, tombstones included */
	size_t open, inflight, answer_bytes;
	sess_t *lru, *mru;
	answer_t *ans_old, *ans_new;
	size_t pos_sessions, pos_answers; /* in the heaps */
};

struct spn_sstore {
	pthread_mutex_t lock;
	spn_sstore_limits_t lim;
	void *root;
	sess_t *oldest, *newest;
	size_t count, n_closed, answer_bytes; /* count: open sessions only */
	size_t anon, inflight, n_owners, evicted, answers_evicted;
	uint64_t opened, expired;     /* since the store was made */
	void *owners;                /* owner_t by key */
	spn_heap_t heavy_anon;       /* anonymous owners by open sessions */
	spn_heap_t heavy_answers;    /* owners by answer bytes */
	void *mids;                  /* seen_mid_t by key */
	seen_mid_t *mid_old, *mid_new;
	size_t n_mids;
};

static size_t w_open(const void *o)
{
	return ((const owner_t *)o)->open;
}

static size_t *p_open(void *o)
{
	return &((owner_t *)o)->pos_sessions;
}

static size_t w_answers(const void *o)
{
	return ((const owner_t *)o)->answer_bytes;
}

static size_t *p_answers(void *o)
{
	return &((owner_t *)o)->pos_answers;
}

static int by_owner(const void *a, const void *b)
{
	return strcmp(((const owner_t *)a)->key, ((const owner_t *)b)->key);
}

/* The owner of a new session, made when it is the first. */
static owner_t *owner_get(spn_sstore_t *s, const spn_sstore_keys_t *k, const char *origin)
{
	owner_t key, *o;
	void *const *slot;

	snprintf(key.key, sizeof(key.key), "%s%s", k->serial[0] ? "c:" : "a:", k->serial[0] ? k->serial : origin);
	if ((slot = tfind(&key, &s->owners, by_owner)))
		return *(owner_t *const *)slot;
	if (!(o = calloc(1, sizeof(*o))))
		return NULL;
	memcpy(o->key, key.key, sizeof(o->key));
	o->anon = !k->serial[0];
	if (!(slot = tsearch(o, &s->owners, by_owner))) {
		free(o);
		return NULL;
	}
	s->n_owners++;
	return o;
}

static void owner_put(spn_sstore_t *s, owner_t *o)
{
	if (--o->refs)
		return;
	spn_heap_remove(&s->heavy_anon, o);
	spn_heap_remove(&s->heavy_answers, o);
	tdelete(o, &s->owners, by_owner);
	s->n_owners--;
	free(o);
}

/* The owner's weights changed: the heaps follow. A failed allocation only
 * leaves an owner out of a heap, where it is never chosen to give way. */
static void owner_weighed(spn_sstore_t *s, owner_t *o)
{
	if (o->anon && o->open)
		spn_heap_set(&s->heavy_anon, o);
	else
		spn_heap_remove(&s->heavy_anon, o);
	if (o->answer_bytes)
		spn_heap_set(&s->heavy_answers, o);
	else
		spn_heap_remove(&s->heavy_answers, o);
}

static void used_unlink(sess_t *e)
{
	owner_t *o = e->owner;

	if (e->used_prev)
		e->used_prev->used_next = e->used_next;
	else
		o->lru = e->used_next;
	if (e->used_next)
		e->used_next->used_prev = e->used_prev;
	else
		o->mru = e->used_prev;
	e->used_prev = e->used_next = NULL;
}

static void used_append(sess_t *e)
{
	owner_t *o = e->owner;

	e->used_prev = o->mru;
	e->used_next = NULL;
	if (o->mru)
		o->mru->used_next = e;
	else
		o->lru = e;
	o->mru = e;
}

/* An open session leaves its owner's count (closed or dropped). */
static void owner_close(spn_sstore_t *s, sess_t *e)
{
	used_unlink(e);
	e->owner->open--;
	if (e->owner->anon)
		s->anon--;
	owner_weighed(s, e->owner);
}

static int by_key(const void *a, const void *b)
{
	return strcmp(((const seen_mid_t *)a)->key, ((const seen_mid_t *)b)->key);
}

/* One author's message for one service: the sections that carry a client's
 * message through several services share its id, written by different
 * authors. */
static void mid_key(char *key, size_t cap, const char *service, const char *author, const char *mid)
{
	snprintf(key, cap, "%s/%s/%s", service, author, mid);
}

static seen_mid_t *mid_find(spn_sstore_t *s, const char *service, const char *author, const char *mid)
{
	seen_mid_t k;
	void *const *hit;

	mid_key(k.key, sizeof(k.key), service, author, mid);
	hit = tfind(&k, &s->mids, by_key);
	return hit ? *(seen_mid_t *const *)hit : NULL;
}

static void mid_drop_oldest(spn_sstore_t *s)
{
	seen_mid_t *m = s->mid_old;

	tdelete(m, &s->mids, by_key);
	s->mid_old = m->next;
	if (!s->mid_old)
		s->mid_new = NULL;
	s->n_mids--;
	free(m);
}

static void mid_add(spn_sstore_t *s, const char *service, const char *author, const char *mid, const char *sid)
{
	seen_mid_t *m = calloc(1, sizeof(*m));
	void *const *slot;

	if (!m)
		return;
	mid_key(m->key, sizeof(m->key), service, author, mid);
	snprintf(m->sid, sizeof(m->sid), "%s", sid);
	if (!(slot = tsearch(m, &s->mids, by_key)) || *(seen_mid_t *const *)slot != m) {
		free(m);
		return;
	}
	if (s->mid_new)
		s->mid_new->next = m;
	else
		s->mid_old = m;
	s->mid_new = m;
	if (++s->n_mids > SPN_SSTORE_MIDS)
		mid_drop_oldest(s);
}

static int by_id(const void *a, const void *b)
{
	return strcmp(((const sess_t *)a)->id, ((const sess_t *)b)->id);
}

int spn_sstore_new(const spn_sstore_limits_t *limits, spn_sstore_t **out)
{
	spn_sstore_t *s = calloc(1, sizeof(*s));

	if (!s)
		return SPN_ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	s->lim = *limits;
	s->heavy_anon = (spn_heap_t){.weight = w_open, .pos = p_open};
	s->heavy_answers = (spn_heap_t){.weight = w_answers, .pos = p_answers};
	*out = s;
	return 0;
}

/* The body goes, the record that mid was answered stays: a retry is told
 * the answer is no longer kept, and is not acted on again. */
static void forget_body(spn_sstore_t *s, owner_t *o, answer_t *a)
{
	if (!a->body)
		return;
	if (a->older)
		a->older->newer = a->newer;
	else
		o->ans_old = a->newer;
	if (a->newer)
		a->newer->older = a->older;
	else
		o->ans_new = a->older;
	a->older = a->newer = NULL;
	s->answer_bytes -= a->len;
	o->answer_bytes -= a->len;
	spn_free_secret(a->body, a->len);
	a->body = NULL;
	a->len = 0;
	owner_weighed(s, o);
}

static void drop_answer(spn_sstore_t *s, sess_t *e, answer_t *a)
{
	forget_body(s, e->owner, a);
	if (a->mid[0] && !a->status) {
		e->inflight--;
		e->owner->inflight--;
		s->inflight--;
	}
	memset(a, 0, sizeof(*a));
}

static void drop_ring(spn_sstore_t *s, sess_t *e)
{
	if (!e->ring)
		return;
	for (unsigned i = 0; i < SPN_SSTORE_RING; i++)
		drop_answer(s, e, &e->ring[i]);
	free(e->ring);
	e->ring = NULL;
}

static void drop(spn_sstore_t *s, sess_t *e)
{
	tdelete(e, &s->root, by_id);
	if (e->prev)
		e->prev->next = e->next;
	else
		s->oldest = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		s->newest = e->prev;
	drop_ring(s, e);
	if (e->closed) {
		s->n_closed--;
	} else {
		s->count--;
		owner_close(s, e);
	}
	owner_put(s, e->owner);
	spn_free_secret(e, sizeof(*e));
}

void spn_sstore_free(spn_sstore_t *s)
{
	if (!s)
		return;
	while (s->oldest)
		drop(s, s->oldest);
	while (s->mid_old)
		mid_drop_oldest(s);
	spn_heap_free(&s->heavy_anon);
	spn_heap_free(&s->heavy_answers);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static void sweep(spn_sstore_t *s, time_t now)
{
	while (s->oldest && s->oldest->k.expires <= now) {
		s->expired += !s->oldest->closed;
		drop(s, s->oldest);
	}
}

static sess_t *find(spn_sstore_t *s, const char *id)
{
	sess_t key;
	void *const *hit;

	if (strlen(id) > SPN_ID_MAX)
		return NULL;
	strcpy(key.id, id);
	hit = tfind(&key, &s->root, by_id);
	return hit ? *(sess_t *const *)hit : NULL;
}

/* Drops o's least recently used session with no message in flight. */
static bool evict_idle(spn_sstore_t *s, owner_t *o)
{
	for (sess_t *e = o ? o->lru : NULL; e; e = e->used_next)
		if (!e->inflight) {
			drop(s, e);
			s->evicted++;
			return true;
		}
	return false;
}

/* Room for one more session of o's, or SPN_EBUSY. */
static int make_room(spn_sstore_t *s, owner_t *o)
{
	unsigned long share = o->anon ? s->lim.per_client : s->lim.per_certificate;

	if (o->open >= share && !evict_idle(s, o))
		return spn_err(SPN_EBUSY, "this provider holds %zu sessions for you, your share, none of them idle; "
					  "try again later",
			       o->open);
	if (o->anon && s->anon >= s->lim.anonymous && !evict_idle(s, spn_heap_top(&s->heavy_anon)))
		return spn_err(SPN_EBUSY, "this provider holds %zu sessions for anonymous clients, their share, none "
					  "of them idle; try again later, or open it with a certificate",
			       s->anon);
	if (s->count >= s->lim.max && !evict_idle(s, spn_heap_top(&s->heavy_anon)))
		return spn_err(SPN_EBUSY, "this provider holds %zu sessions, its limit; try again later", s->count);
	return 0;
}

int spn_sstore_add(spn_sstore_t *s, const char *id, const spn_sstore_keys_t *k, const char *origin, time_t now)
{
	sess_t *e;
	owner_t *o;
	void *const *slot;
	int rc = 0;

	if (!spn_id_is_valid(id))
		return spn_err(SPN_EINVAL, "session id: 1-%d of [A-Za-z0-9._-]", SPN_ID_MAX);
	if (!(e = calloc(1, sizeof(*e))))
		return SPN_ENOMEM;
	strcpy(e->id, id);
	e->k = *k;
	e->k.expires = now + (time_t)s->lim.ttl_s;
	pthread_mutex_lock(&s->lock);
	sweep(s, now);
	if (!(o = owner_get(s, k, origin ? origin : ""))) {
		rc = SPN_ENOMEM;
		goto out;
	}
	/* Held while room is made, so that dropping its own last session
	 * does not free the owner. */
	o->refs++;
	if (find(s, id))
		rc = spn_err(SPN_EEXIST, "session %s exists already", id);
	else if ((rc = make_room(s, o)) == 0 && !(slot = tsearch(e, &s->root, by_id)))
		rc = SPN_ENOMEM;
	if (rc) {
		owner_put(s, o);
		goto out;
	}
	e->prev = s->newest;
	if (s->newest)
		s->newest->next = e;
	else
		s->oldest = e;
	s->newest = e;
	s->count++;
	s->opened++;
	e->owner = o;
	o->open++;
	if (o->anon)
		s->anon++;
	used_append(e);
	owner_weighed(s, o);
	e = NULL;
out:
	pthread_mutex_unlock(&s->lock);
	if (e)
		spn_free_secret(e, sizeof(*e));
	return rc;
}

static int closed_err(const sess_t *e)
{
	return spn_err(SPN_EREVOKED, "session %s was closed: the certificate %s of %s is revoked", e->id, e->k.serial,
		       e->k.client);
}

int spn_sstore_keys(spn_sstore_t *s, const char *id, time_t now, spn_sstore_keys_t *out)
{
	sess_t *e;
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	if (!(e = find(s, id))) {
		rc = spn_err(SPN_ESESSION, "no session %s here (never opened, expired or forgotten): open a new one", id);
	} else if (e->k.expires <= now) {
		drop(s, e);
		rc = spn_err(SPN_EEXPIRED, "session %s has expired: open a new one", id);
	} else if (e->closed) {
		rc = closed_err(e);
	} else {
		*out = e->k;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* The window of sequence numbers: refuses one seen before or too old to
 * tell, and marks a new one seen. */
static int window(sess_t *e, uint64_t seq)
{
	if (!e->any || seq > e->top) {
		uint64_t shift = e->any ? seq - e->top : SPN_SSTORE_WINDOW;
		e->bits = shift >= SPN_SSTORE_WINDOW ? 0 : e->bits << shift;
		e->bits |= 1;
		e->top = seq;
		e->any = true;
		return 0;
	}
	if (e->top - seq >= SPN_SSTORE_WINDOW)
		return spn_err(SPN_EREPLAY, "session %s: sequence number %llu is too old (the newest is %llu)", e->id,
			       (unsigned long long)seq, (unsigned long long)e->top);
	if (e->bits & ((uint64_t)1 << (e->top - seq)))
		return spn_err(SPN_EREPLAY, "session %s: sequence number %llu was used before", e->id,
			       (unsigned long long)seq);
	e->bits |= (uint64_t)1 << (e->top - seq);
	return 0;
}

static answer_t *answered(sess_t *e, const char *mid)
{
	for (unsigned i = 0; e->ring && i < SPN_SSTORE_RING; i++)
		if (e->ring[i].mid[0] && strcmp(e->ring[i].mid, mid) == 0)
			return &e->ring[i];
	return NULL;
}

int spn_sstore_begin(spn_sstore_t *s, const char *id, const char *author, const char *mid, uint64_t seq,
		     unsigned *status, char **body, size_t *len)
{
	sess_t *e;
	answer_t *a;
	seen_mid_t *m;
	int rc = 0;

	*status = 0;
	*body = NULL;
	*len = 0;
	if (strlen(mid) > SPN_ID_MAX || strlen(author) > SPN_ID_MAX)
		return spn_err(SPN_EINVAL, "message id or author too long");
	pthread_mutex_lock(&s->lock);
	if (!(e = find(s, id))) {
		rc = spn_err(SPN_ESESSION, "no session %s here: open a new one", id);
	} else if (e->closed) {
		rc = closed_err(e);
	} else if ((a = answered(e, mid))) {
		if (!a->status)
			rc = spn_err(SPN_EBUSY, "message %s is being handled; ask again", mid);
		else if (!a->body)
			rc = spn_err(SPN_EREPLAY, "message %s was answered; the answer is no longer kept", mid);
		else if (!(*body = malloc(a->len + 1)))
			rc = SPN_ENOMEM;
		else {
			memcpy(*body, a->body, a->len);
			(*body)[a->len] = '\0';
			*len = a->len;
			*status = a->status;
		}
	} else if ((m = mid_find(s, e->k.service, author, mid)) && strcmp(m->sid, id) != 0) {
		rc = spn_err(SPN_EREPLAY, "message %s was handled in another session (%s); it is not acted on again", mid,
			     m->sid);
	} else if (m) {
		/* Acted on in this session, its answer since pushed out of the
		 * ring: under a new sequence number it is the same message. */
		rc = spn_err(SPN_EREPLAY, "message %s was answered; the answer is no longer kept", mid);
	} else if (e->used >= s->lim.budget) {
		rc = spn_err(SPN_ELIMIT, "session %s has carried its %lu messages: open a new one", id, s->lim.budget);
	} else if (e->owner->inflight >= s->lim.inflight) {
		rc = spn_err(SPN_EBUSY, "%zu of your messages are being handled here, your share; ask again",
			     e->owner->inflight);
	} else if (!e->ring && !(e->ring = calloc(SPN_SSTORE_RING, sizeof(*e->ring)))) {
		rc = SPN_ENOMEM;
	} else if ((rc = window(e, seq)) == 0) {
		a = &e->ring[e->ring_next];
		e->ring_next = (e->ring_next + 1) % SPN_SSTORE_RING;
		drop_answer(s, e, a);
		strcpy(a->mid, mid);
		e->used++;
		e->inflight++;
		e->owner->inflight++;
		s->inflight++;
		used_unlink(e);
		used_append(e);
		mid_add(s, e->k.service, author, mid, id);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* Room in the answer budget for len more bytes of o's: the owner holding
 * the most gives up its oldest answers, unless o would then hold more than
 * it, in which case o gives up its own. False when o holds nothing to give. */
static bool answer_room(spn_sstore_t *s, owner_t *o, size_t len)
{
	while (s->answer_bytes + len > s->lim.answer_bytes) {
		owner_t *top = spn_heap_top(&s->heavy_answers);
		if (!top || top->answer_bytes < o->answer_bytes + len)
			top = o;
		if (!top->ans_old)
			return false;
		forget_body(s, top, top->ans_old);
		s->answers_evicted++;
	}
	return true;
}

void spn_sstore_finish(spn_sstore_t *s, const char *id, const char *mid, unsigned status, const char *body,
		       size_t len)
{
	sess_t *e;
	answer_t *a;
	owner_t *o;

	pthread_mutex_lock(&s->lock);
	if ((e = find(s, id)) && (a = answered(e, mid)) && !a->status) {
		o = e->owner;
		a->status = status ? status : 500;
		e->inflight--;
		o->inflight--;
		s->inflight--;
		/* Past the budget the answer is not kept: a retry is then told
		 * so, and still not acted on. */
		if (len <= s->lim.answer_bytes && answer_room(s, o, len) && (a->body = malloc(len ? len : 1))) {
			memcpy(a->body, body, len);
			a->len = len;
			s->answer_bytes += len;
			o->answer_bytes += len;
			a->older = o->ans_new;
			if (o->ans_new)
				o->ans_new->newer = a;
			else
				o->ans_old = a;
			o->ans_new = a;
			owner_weighed(s, o);
		}
	}
	pthread_mutex_unlock(&s->lock);
}

/* Leaves a tombstone: the keys and the answers kept are wiped now, not at
 * expiry; the id, the client and the serial stay to say why the session
 * is refused, and keep the id from being taken over. */
static void close_one(spn_sstore_t *s, sess_t *e)
{
	spn_wipe(e->k.to_provider, sizeof(e->k.to_provider));
	spn_wipe(e->k.to_client, sizeof(e->k.to_client));
	drop_ring(s, e);
	owner_close(s, e);
	e->closed = true;
	s->count--;
	s->n_closed++;
}

size_t spn_sstore_close_revoked(spn_sstore_t *s, bool (*is_revoked)(const char *serial, void *user), void *user)
{
	sess_t *e, *next;
	size_t n = 0;

	pthread_mutex_lock(&s->lock);
	for (e = s->oldest; e; e = next) {
		next = e->next;
		if (e->closed || !e->k.serial[0] || !is_revoked(e->k.serial, user))
			continue;
		/* Tombstones are bounded like sessions: past the bound one is
		 * forgotten, and its sections are refused as unknown instead. */
		if (s->n_closed < s->lim.max)
			close_one(s, e);
		else
			drop(s, e);
		n++;
	}
	pthread_mutex_unlock(&s->lock);
	return n;
}

size_t spn_sstore_count(spn_sstore_t *s)
{
	size_t n;

	pthread_mutex_lock(&s->lock);
	n = s->count;
	pthread_mutex_unlock(&s->lock);
	return n;
}

void spn_sstore_stats(spn_sstore_t *s, spn_sstore_stats_t *out)
{
	pthread_mutex_lock(&s->lock);
	*out = (spn_sstore_stats_t){s->count, s->anon, s->n_owners, s->answer_bytes, s->inflight, s->evicted,
				    s->answers_evicted, s->opened, s->expired};
	pthread_mutex_unlock(&s->lock);
}

void spn_sstore_keys_clear(spn_sstore_keys_t *k)
{
	spn_wipe(k, sizeof(*k));
}
