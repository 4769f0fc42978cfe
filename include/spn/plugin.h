/* The spn plugin ABI, version 1.2 (doc/plugin-guide.md). A plugin is a shared
 * object that provides services of a group: it exports one descriptor,
 * made with SPN_PLUGIN, and spnd hands it, for each section addressed to
 * one of its services, the section's plaintext and who wrote it.
 *
 * Each plugin runs in a process of its own (spn-plugin-host), apart from
 * spnd's memory (the node's keys, the session keys) and from every other
 * plugin: it is given only its own sections. It runs as spnd's user, so
 * files are not a boundary (doc/plugin-guide.md §1). A plugin that crashes
 * or hangs is restarted; the client is told its message was not completed,
 * and the node keeps serving.
 *
 * The functions below are provided by that process; a plugin links with
 * nothing but the libraries it uses itself:
 *   cc -shared -fPIC $(pkg-config --cflags spn-plugin) -o hello.so hello.c */
#ifndef SPN_PLUGIN_H
#define SPN_PLUGIN_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SPN_PLUGIN_ABI_MAJOR 1
/* 1.1: spn_request_attached_reply, SPN_PLUGIN_CONFIGURED_SERVICES.
 * 1.2: families of options ("upstream.*"), spn_plugin_services,
 *      spn_plugin_service, spn_plugin_timeout_ms. */
#define SPN_PLUGIN_ABI_MINOR 2

/* An entry of a descriptor's services meaning "the services the node's
 * configuration names" ([plugin.<name>] services), for a plugin that can
 * serve any service, such as echo. Without that key it stands for none. */
#define SPN_PLUGIN_CONFIGURED_SERVICES "*"

/* The plugin's own context: its options, its state, its log. */
typedef struct spn_plugin_ctx spn_plugin_ctx_t;
/* One section to handle. Valid during the handle callback only. */
typedef struct spn_request spn_request_t;
/* A certificate the PSP is about to issue, or has issued, for the CA
 * policy hooks. Valid during the hook only. */
typedef struct spn_ca_request spn_ca_request_t;

typedef enum {
	SPN_OPT_STRING,
	SPN_OPT_UINT,   /* a decimal integer within [min, max] */
	SPN_OPT_BOOL,   /* true/false, yes/no, on/off, 1/0 */
	SPN_OPT_PATH,   /* a string; relative paths are relative to the configuration file */
} spn_opt_type_t;

/* One option of the plugin's section [plugin.<name>] in spnd's
 * configuration. The file is checked against these before the plugin
 * starts: an unknown key or a bad value stops spnd with the file, the line,
 * the section and the key. The keys timeout and services are spnd's own
 * (doc/plugin-guide.md §4): a plugin may not declare them.
 * ABI 1.2: a name ending in ".*" ("upstream.*") declares a family: every
 * key with that stem and something after it ("upstream.hospital") is
 * taken and checked as the entry's type, none is required, and there is
 * no default; each is read by its full name with spn_plugin_opt. */
typedef struct {
	const char *name;
	spn_opt_type_t type;
	const char *def;        /* NULL: required */
	unsigned long min, max; /* SPN_OPT_UINT only */
	const char *help;
} spn_plugin_opt_t;

/* What a plugin says about itself. The version fields come first: they
 * protect the rest. spnd takes the same major version and a minor one no
 * higher than its own. */
typedef struct {
	uint16_t abi_major, abi_minor;
	const char *name;                     /* must be the name it is enabled under */
	/* NULL-terminated; at least one. [plugin.<name>] services may narrow
	 * them, and name any service when SPN_PLUGIN_CONFIGURED_SERVICES is
	 * among them. */
	const char *const *services;
	const spn_plugin_opt_t *options;      /* ended by an entry whose name is NULL; may be NULL */
	/* Once, before any section; nonzero refuses to start (say why with
	 * spn_plugin_log at error level). May be NULL. */
	int (*init)(spn_plugin_ctx_t *ctx);
	/* For each section: read it with spn_request_*, answer with
	 * spn_request_reply. Nonzero: the section failed, and the client is
	 * told so (with the reason given to spn_request_fail, if any). */
	int (*handle)(spn_plugin_ctx_t *ctx, spn_request_t *req);
	/* Once, at the end. May be NULL. */
	void (*fini)(spn_plugin_ctx_t *ctx);

	/* CA policy hooks, run on the PSP only, for each enrollment (all may
	 * be NULL; a plugin with hooks may provide no service and have no
	 * handle). ca_authorize: nonzero refuses the enrollment (say why with
	 * spn_ca_request_refuse). ca_adjust: may narrow the certificate
	 * (fewer services, a shorter validity); nonzero refuses too.
	 * ca_issued: told the serial once it is recorded. */
	int (*ca_authorize)(spn_plugin_ctx_t *ctx, spn_ca_request_t *r);
	int (*ca_adjust)(spn_plugin_ctx_t *ctx, spn_ca_request_t *r);
	void (*ca_issued)(spn_plugin_ctx_t *ctx, spn_ca_request_t *r);
} spn_plugin_t;

/* Defines the descriptor of plugin NAME (a C identifier, the name it is
 * enabled under). The alias <name>_LTX_spn_plugin is what libltdl looks up,
 * so a preloaded (static) build works as well as a shared one. The rest
 * are the descriptor's fields from services on, in order or designated:
 *   SPN_PLUGIN(hello, services, options, init, handle, fini);
 *   SPN_PLUGIN(policy, .options = options, .ca_authorize = authorize); */
#define SPN_PLUGIN(NAME, ...)                                                                                          \
	__attribute__((visibility("default"))) const spn_plugin_t NAME##_LTX_spn_plugin = {                             \
		.abi_major = SPN_PLUGIN_ABI_MAJOR, .abi_minor = SPN_PLUGIN_ABI_MINOR, .name = #NAME, __VA_ARGS__}

/* --- the context -------------------------------------------------------- */

/* An option's value (its default when absent); NULL only for an absent
 * option without a default. Valid for the life of the plugin. Paths come
 * back made absolute. */
const char *spn_plugin_opt(spn_plugin_ctx_t *ctx, const char *name);
unsigned long spn_plugin_opt_uint(spn_plugin_ctx_t *ctx, const char *name);
bool spn_plugin_opt_bool(spn_plugin_ctx_t *ctx, const char *name);

/* The plugin's own state, set in init (and freed by the plugin in fini). */
void spn_plugin_set_state(spn_plugin_ctx_t *ctx, void *state);
void *spn_plugin_state(spn_plugin_ctx_t *ctx);

/* The id of the node the plugin serves. */
const char *spn_plugin_node(spn_plugin_ctx_t *ctx);

/* ABI 1.2: the services the plugin provides on this node (its
 * descriptor's, as [plugin.<name>] services narrows or names them): their
 * number, and each one (NULL past the end). */
size_t spn_plugin_services(spn_plugin_ctx_t *ctx);
const char *spn_plugin_service(spn_plugin_ctx_t *ctx, size_t i);

/* ABI 1.2: how long spnd gives each section ([plugin.<name>] timeout), in
 * milliseconds: a handle that takes longer has its process replaced. */
unsigned long spn_plugin_timeout_ms(spn_plugin_ctx_t *ctx);

enum { SPN_PLUGIN_LOG_ERROR = 0, SPN_PLUGIN_LOG_WARN = 1, SPN_PLUGIN_LOG_INFO = 2, SPN_PLUGIN_LOG_DEBUG = 3 };

/* A line in the node's log, prefixed with the plugin's name. The log is
 * for operators: what the plugin did, with ids, field names and sizes;
 * never a value from a section (a patient's id, an address, an amount). */
void spn_plugin_log(spn_plugin_ctx_t *ctx, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* --- the request -------------------------------------------------------- */

/* The section's plaintext (NUL-terminated for convenience; *len without
 * the NUL). */
const uint8_t *spn_request_data(spn_request_t *req, size_t *len);

/* The service it was sent to. */
const char *spn_request_service(spn_request_t *req);

/* Who wrote it: a node id, or a client's name. spn_request_author_verified
 * says whether a certificate of the group vouches for it; an anonymous
 * client names itself. */
const char *spn_request_author(spn_request_t *req);
bool spn_request_author_verified(spn_request_t *req);

/* The message id: the same for every section of one client message and
 * for the calls made while handling it, so that a service can refuse to act
 * twice on one message (a retry gets the recorded reply anyway). */
const char *spn_request_message_id(spn_request_t *req);

/* Sections the client wrote for this service that travelled with the call
 * (e.g. the bank details the wristband wrote for the bank alone, carried
 * through the pharmacy): their number, and each one's plaintext and author.
 * They are answered apart from the caller: see
 * spn_request_attached_reply. */
size_t spn_request_attached(spn_request_t *req);
const uint8_t *spn_request_attached_data(spn_request_t *req, size_t i, size_t *len);
const char *spn_request_attached_author(spn_request_t *req, size_t i);
bool spn_request_attached_verified(spn_request_t *req, size_t i);

/* The reply to the caller (copied); at most one per request. The caller is
 * whoever wrote the section: a client, or the service that called this
 * one. It reaches the caller alone, never the authors of carried
 * sections. Answer only what the caller needs to go on. */
int spn_request_reply(spn_request_t *req, const void *data, size_t len);

/* ABI 1.1: the reply to the i-th carried section (copied), sealed for the
 * client that wrote it and readable by that client alone: the caller
 * never sees it. At most one per carried section; it may be given whether
 * handle succeeds or fails (a refusal whose reason is the client's own
 * business goes here, not to the caller). A carried section left without
 * one is answered {"handled":true} when handle succeeds, and told that the
 * request it came with failed otherwise; never with the caller's reply.
 * Returns 0, or -1 when i is out of range or already answered. */
int spn_request_attached_reply(spn_request_t *req, size_t i, const void *data, size_t len);

/* The reason the section failed, for the caller (copied), before handle
 * returns nonzero. It travels to the caller as an error, readable on the
 * way: say what was wrong with the input (a field's name), never a value
 * from it. */
void spn_request_fail(spn_request_t *req, const char *reason);

/* Calls service with data while handling req, and waits for its reply.
 * spnd opens a session with a provider of that service as this node
 * (authenticated by its certificate), or uses the one it has, encrypts,
 * routes, and opens the reply. Sections the client wrote for services
 * further on travel with the call, unread; when one of them is for
 * service, the call goes to the node it names. *reply (NUL-terminated) is
 * the plugin's to free with spn_plugin_free. Returns 0, or nonzero with
 * *reply set to the reason. */
int spn_request_call(spn_request_t *req, const char *service, const void *data, size_t len, uint8_t **reply,
		     size_t *reply_len);

void spn_plugin_free(void *p);

/* --- the CA policy hooks' request --------------------------------------- */

/* The node being enrolled: its id, role ("admin", "spn", "client"),
 * trust, services; the administrator that accepted it (minted its token);
 * the validity its certificate will have, in seconds; and once issued, its
 * serial (lowercase hex; "" before). */
const char *spn_ca_request_node(spn_ca_request_t *r);
const char *spn_ca_request_role(spn_ca_request_t *r);
unsigned spn_ca_request_trust(spn_ca_request_t *r);
size_t spn_ca_request_services(spn_ca_request_t *r);
const char *spn_ca_request_service(spn_ca_request_t *r, size_t i);
const char *spn_ca_request_accepted_by(spn_ca_request_t *r);
unsigned long spn_ca_request_validity(spn_ca_request_t *r);
const char *spn_ca_request_serial(spn_ca_request_t *r);

/* ca_authorize and ca_adjust: the reason for a refusal (copied). */
void spn_ca_request_refuse(spn_ca_request_t *r, const char *reason);
/* ca_adjust: issue without service (0, or -1 when it was not asked for);
 * issue for at most seconds (never longer than the profile's). */
int spn_ca_request_drop_service(spn_ca_request_t *r, const char *service);
void spn_ca_request_set_validity(spn_ca_request_t *r, unsigned long seconds);

#ifdef __cplusplus
}
#endif
#endif
