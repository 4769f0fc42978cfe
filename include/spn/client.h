/* The spn client library (doc/protocol.md §5-§6): opens sessions with the
 * providers of the services a program needs, through any node of the
 * group, and sends messages whose sections only their providers can read;
 * the providers' replies come back readable by this client alone.
 *
 * A session that is gone (expired, used up, forgotten, or its provider no
 * longer reachable) is opened again, with another provider where the
 * first one left, and the section sent again, without the caller noticing.
 * A client is used by one thread at a time.
 *
 * This header and libspn-client are all a program needs (pkg-config
 * spn-client; spn_client(3)). Its constants and codes are part of the
 * library's ABI: they change only with the library's soname. */
#ifndef SPN_CLIENT_H
#define SPN_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Only these functions leave the library, whatever the program's
 * default visibility. */
#if defined(__GNUC__) && !defined(SPN_CLIENT_API)
#define SPN_CLIENT_API __attribute__((visibility("default")))
#elif !defined(SPN_CLIENT_API)
#define SPN_CLIENT_API
#endif

/* The sizes the structures below are made of. */
#define SPN_CLIENT_SERVICE_MAX 32  /* a service name, in bytes */
#define SPN_CLIENT_NAME_MAX 63     /* a node's or client's name */
#define SPN_CLIENT_ID_MAX 64       /* a message id (spn_client_send_id) */
#define SPN_CLIENT_ERRNAME_MAX 31  /* an error's stable name */
#define SPN_CLIENT_MESSAGE_MAX 511 /* the words of a reply's error */
#define SPN_CLIENT_PARTS_MAX 16    /* parts in one message */
#define SPN_CLIENT_SESSIONS_MAX 16 /* services a client holds sessions with */

/* What the functions return and what a reply's error holds: 0 or one of
 * these. An error a node names that this library does not know reads as
 * SPN_CLIENT_EUNAVAILABLE; new codes are only ever added, below these. */
typedef enum {
	SPN_CLIENT_OK = 0,
	SPN_CLIENT_ENOMEM = -1,
	SPN_CLIENT_EINVAL = -2, /* a bad argument: the call, not the group */
	SPN_CLIENT_EIO = -3,
	SPN_CLIENT_ECONFIG = -4,
	SPN_CLIENT_ECRYPTO = -5,
	SPN_CLIENT_EBADCSR = -6,
	SPN_CLIENT_EBADCERT = -7, /* a provider's certificate is not of the group */
	SPN_CLIENT_EBADSIG = -8,
	SPN_CLIENT_EUNSUPPORTED = -9,
	SPN_CLIENT_ETOOBIG = -10,
	SPN_CLIENT_ETOKEN = -11,
	SPN_CLIENT_ETOKENUSED = -12,
	SPN_CLIENT_ETOKENEXPIRED = -13,
	SPN_CLIENT_EPOLICY = -14,
	SPN_CLIENT_ELIMIT = -15,
	SPN_CLIENT_EEXIST = -16,
	SPN_CLIENT_ENOTFOUND = -17,
	SPN_CLIENT_ELEDGER = -18,
	SPN_CLIENT_EPASSPHRASE = -19,
	SPN_CLIENT_EREVOKED = -20,
	SPN_CLIENT_EEXPIRED = -21, /* a certificate, or the CRL, out of date */
	SPN_CLIENT_EDENIED = -22,
	SPN_CLIENT_ESTATE = -23,
	SPN_CLIENT_ERESYNC = -24,
	SPN_CLIENT_ENOPROVIDER = -25,
	SPN_CLIENT_ELOOP = -26,
	SPN_CLIENT_EUNAVAILABLE = -27, /* the entry node, or the next one, cannot be reached */
	SPN_CLIENT_ETIMEOUT = -28,
	SPN_CLIENT_EBUSY = -29,
	SPN_CLIENT_ESESSION = -30,
	SPN_CLIENT_EREPLAY = -31,
	SPN_CLIENT_EPLUGIN = -32,
	SPN_CLIENT_ELEDGERLOST = -33,
	SPN_CLIENT_ESTANDBY = -34,
} spn_client_error_t;

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
	char service[SPN_CLIENT_SERVICE_MAX + 1];
	char provider[SPN_CLIENT_NAME_MAX + 1];      /* the node that answered (or was asked) */
	int error;                                   /* 0, or an spn_client_error_t */
	char error_name[SPN_CLIENT_ERRNAME_MAX + 1]; /* "unknown_session", "no_provider", ... */
	char message[SPN_CLIENT_MESSAGE_MAX + 1];    /* why, when error is set */
	uint8_t *data;                               /* the provider's reply, opened; NUL-terminated */
	size_t len;
} spn_client_reply_t;

/* Connects nothing yet: reads the root, the optional certificate, key and
 * CRL. On error *out is NULL and spn_client_last_error() says why. */
SPN_CLIENT_API int spn_client_new(const spn_client_config_t *cfg, spn_client_t **out);
SPN_CLIENT_API void spn_client_free(spn_client_t *c);

/* Opens sessions for the services not open yet, in one call. Each offer is
 * checked (the provider's certificate against the root and the CRL, its
 * authorisation for the service, the signature over the transcript) before
 * its key is opened. 0 when all are open; else the first error. */
SPN_CLIENT_API int spn_client_open(spn_client_t *c, const char *const *services, size_t n);

/* Sends one message with a section per part and opens the replies into
 * replies[0..n-1] (each with its own error). Returns 0 when the message was
 * delivered to the entry node, whatever the providers answered. */
SPN_CLIENT_API int spn_client_send(spn_client_t *c, const spn_client_part_t *parts, size_t n,
				   spn_client_reply_t *replies);

/* The same with the message id given (NULL: a new one): a message sent
 * again with its id is answered from the providers' records and never
 * acted on twice. */
SPN_CLIENT_API int spn_client_send_id(spn_client_t *c, const char *id, const spn_client_part_t *parts, size_t n,
				      spn_client_reply_t *replies);

/* Wipes and frees a reply's data. */
SPN_CLIENT_API void spn_client_reply_clear(spn_client_reply_t *r);

/* The provider of the open session for service, or NULL. */
SPN_CLIENT_API const char *spn_client_provider(const spn_client_t *c, const char *service);

/* Why the last call of this thread failed. */
SPN_CLIENT_API const char *spn_client_last_error(void);

/* The stable name of an error code ("replay", "revoked"). */
SPN_CLIENT_API const char *spn_client_errname(int code);

/* Words for an error code ("certificate is revoked"); never NULL. */
SPN_CLIENT_API const char *spn_client_strerror(int code);

/* Library logging to stderr: on, what it does step by step; off (the
 * default), only warnings. */
SPN_CLIENT_API void spn_client_verbose(bool on);

/* The version of the library the program runs with ("0.1.0"). */
SPN_CLIENT_API const char *spn_client_version(void);

#ifdef __cplusplus
}
#endif
#endif
