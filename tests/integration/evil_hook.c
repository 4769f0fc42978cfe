/* Test-only: turns spnd into a malicious node on the path. Linked only into
 * tests/integration/spnd_evil, never into spnd. With SPN_EVIL set, every
 * session offer this node relays back toward a client is changed:
 *   substitute  its own key sealed to the client's key in place of the
 *               provider's (so that it could read the client's sections);
 *   resign      the same, and the offer signed again with this node's own
 *               certificate, under its own name;
 *   lie         the first reply section it relays for each message is
 *               thrown away and the client told "unknown_session", so
 *               that it sends the message again over a new session.
 * The client must refuse the first two; the provider must not act twice
 * on the third. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "hpke.h"
#include "json.h"
#include "jwe.h"
#include "log.h"
#include "mem.h"
#include "node.h"
#include "session.h"

static const char *mode;

static void seal_own_key(spn_session_offer_t *o)
{
	uint8_t info[256], k[SPN_SESSION_KEY] = {0x5a};
	spn_hpke_ctx_t ctx;
	int n = snprintf((char *)info, sizeof(info), "spn-session-v1%c%s%c%s%c%s", 0, o->session_id, 0, o->service, 0,
			 o->provider);

	if (spn_hpke_setup_sender(SPN_HPKE_AES256GCM, o->client_pk, info, (size_t)n, NULL, 0, o->enc, &ctx) == 0)
		spn_hpke_seal(&ctx, NULL, 0, k, sizeof(k), o->sealed);
	spn_hpke_ctx_clear(&ctx);
}

static void resign(spn_node_t *n, spn_session_offer_t *o)
{
	gnutls_datum_t sig = {NULL, 0};
	char *t = NULL;

	snprintf(o->provider, sizeof(o->provider), "%s", spn_node_name(n));
	seal_own_key(o);
	free(o->cert_pem);
	if (spn_node_cert_pem(n, &o->cert_pem) == 0 && spn_session_transcript(o, &t) == 0 &&
	    spn_node_sign(n, t, strlen(t), &sig) == 0 && sig.size <= sizeof(o->sig))
		memcpy(o->sig, sig.data, o->sig_len = sig.size);
	gnutls_free(sig.data);
	free(t);
}

static void lie(spn_node_t *n, long *status, char **body, size_t *len)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static char last[SPN_ID_MAX + 1];
	json_object *ans = NULL, *sec;
	spn_jwe_header_t h;
	bool first;

	if (*status != 200 || spn_json_parse(*body, *len, &ans) != 0)
		return;
	if (json_object_object_get_ex(ans, "section", &sec) &&
	    spn_jwe_peek(json_object_get_string(sec), (size_t)json_object_get_string_len(sec), &h) == 0) {
		pthread_mutex_lock(&lock);
		first = strcmp(last, h.mid) != 0;
		snprintf(last, sizeof(last), "%s", h.mid);
		pthread_mutex_unlock(&lock);
		if (first) {
			spn_log_warn("evil: the reply to %s from %s thrown away; told unknown_session", h.mid, h.from);
			free(*body);
			*body = strdup("{\"error\":\"unknown_session\",\"message\":\"no session here (a lie)\"}");
			*len = strlen(*body);
			*status = 404;
		}
	}
	json_object_put(ans);
	(void)n;
}

static void tamper(spn_node_t *n, const char *kind, long *status, char **body, size_t *len)
{
	json_object *ans = NULL, *offer;
	spn_session_offer_t o;
	const char *text;

	if (kind && strcmp(kind, "section") == 0 && strcmp(mode, "lie") == 0) {
		lie(n, status, body, len);
		return;
	}
	if (!kind || strcmp(kind, "session") != 0 || strcmp(mode, "lie") == 0 || *status != 200 ||
	    spn_json_parse(*body, *len, &ans) != 0)
		return;
	if (json_object_object_get_ex(ans, "offer", &offer) && spn_session_offer_parse(offer, &o) == 0) {
		if (strcmp(mode, "resign") == 0)
			resign(n, &o);
		else
			seal_own_key(&o);
		spn_log_warn("evil: the offer of session %s now carries a key of %s's", o.session_id, spn_node_name(n));
		json_object_object_add(ans, "offer", spn_session_offer_json(&o));
		spn_session_offer_clear(&o);
		text = spn_json_text(ans, len);
		free(*body);
		*body = strdup(text);
	}
	json_object_put(ans);
}

__attribute__((constructor)) static void evil(void)
{
	mode = getenv("SPN_EVIL");
	if (mode && *mode)
		spn_node_relay_hook = tamper;
}
