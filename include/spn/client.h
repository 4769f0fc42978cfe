/* The spn client library (doc/protocol.md §5-§6): opens sessions with the
 * providers of the services a program needs, through any node of the
 * group, and sends messages whose sections only their providers can read;
 * the providers' replies come back readable by this client alone.
 *
 * A session that is gone (expired, used up, forgotten, or its provider no
 * longer reachable) is opened again, with another provider where the
 * first one left, and the section sent again, without the caller noticing.
 * A client is used by one thread at a time. */
#ifndef SPN_CLIENT_H
#define SPN_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct spn_client spn_client_t;

typedef struct {
	const char *url;        /* any node of the group: https://host:port */
	const char *root_file;  /* the group's root certificate (PEM), trusted as given */
	/* Optional: a certificate of the group and its key. Sessions are then
	 * signed, sections name the certificate's node id as their author, and
	 * services that require a known client accept this one. */
	const char *cert_file, *key_file;
	/* Optional: a CRL file to use; by default the entry node's CRL is
	 * fetched, checked against the root, and refused when stale. */
	const char *crl_file;
	const char *name;       /* author of sections without a certificate ("client") */
	long timeout_ms;        /* per call (0: 30 s) */
	bool no_reopen;         /* report a gone session instead of opening another */
} spn_client_config_t;

/* One section of a message: data for the provider of service. A part with
 * carry set is not delivered at once: it travels, unread, with the calls
 * the services make while handling the message, and reaches the provider
 * of its service when one of them calls it (the bank details the wristband
 * writes for the bank, carried through healthcare, hospital and pharmacy).
 * Its reply comes back the same way, for this client alone. */
typedef struct {
	const char *service;
	const void *data;
	size_t len;
	bool carry;
} spn_client_part_t;

/* What came back for one part. */
typedef struct {
	char service[33];
	char provider[64];    /* the node that answered (or was asked) */
	int error;            /* 0, or a negative spn error code */
	char error_name[32];  /* "unknown_session", "no_provider", ... */
	char message[512];    /* why, when error is set */
	uint8_t *data;        /* the provider's reply, opened; NUL-terminated */
	size_t len;
} spn_client_reply_t;

/* Connects nothing yet: reads the root, the optional certificate, key and
 * CRL. On error *out is NULL and spn_client_last_error() says why. */
int spn_client_new(const spn_client_config_t *cfg, spn_client_t **out);
void spn_client_free(spn_client_t *c);

/* Opens sessions for the services not open yet, in one call. Each offer is
 * checked (the provider's certificate against the root and the CRL, its
 * authorisation for the service, the signature over the transcript) before
 * its key is opened. 0 when all are open; else the first error. */
int spn_client_open(spn_client_t *c, const char *const *services, size_t n);

/* Sends one message with a section per part and opens the replies into
 * replies[0..n-1] (each with its own error). Returns 0 when the message was
 * delivered to the entry node, whatever the providers answered. */
int spn_client_send(spn_client_t *c, const spn_client_part_t *parts, size_t n, spn_client_reply_t *replies);

/* The same with the message id given (NULL: a new one): a message sent
 * again with its id is answered from the providers' records and never
 * acted on twice. */
int spn_client_send_id(spn_client_t *c, const char *id, const spn_client_part_t *parts, size_t n,
		       spn_client_reply_t *replies);

/* Wipes and frees a reply's data. */
void spn_client_reply_clear(spn_client_reply_t *r);

/* The provider of the open session for service, or NULL. */
const char *spn_client_provider(const spn_client_t *c, const char *service);

/* Why the last call of this thread failed. */
const char *spn_client_last_error(void);

/* The stable name of an error code ("replay", "revoked"). */
const char *spn_client_errname(int code);

#ifdef __cplusplus
}
#endif
#endif
