/* spn-plugin-host: runs one plugin for spnd, in a process of its own, so
 * that the plugin sees only the sections spnd gives it (never the node's
 * keys or another plugin's data) and a plugin that crashes takes only this
 * process with it. spnd starts it with a socket on descriptor 3 and speaks
 * frames (core/frame.h): hello (load and describe the plugin), init
 * (options), handle (one section), with log lines and calls to other
 * services coming back while it works. */
#include "config.h"

#include <ltdl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "frame.h"
#include "host.h"
#include "ident.h"
#include "json.h"
#include "plugin.h"

static spn_plugin_ctx_t ctx;

void spn_host_log(spn_plugin_ctx_t *c, int level, const char *fmt, va_list ap)
{
	char line[2048];
	json_object *h = json_object_new_object();

	vsnprintf(line, sizeof(line), fmt, ap);
	json_object_object_add(h, "op", json_object_new_string("log"));
	json_object_object_add(h, "level", json_object_new_int(level));
	json_object_object_add(h, "text", json_object_new_string(line));
	spn_frame_send(c->fd, h, NULL, 0);
	json_object_put(h);
}

static void answer(const char *op, const char *message)
{
	json_object *h = json_object_new_object();

	json_object_object_add(h, "op", json_object_new_string(op));
	if (message)
		json_object_object_add(h, "message", json_object_new_string(message));
	spn_frame_send(ctx.fd, h, NULL, 0);
	json_object_put(h);
}

static const char *const type_names[] = {"string", "uint", "bool", "path"};

/* Loads the plugin and checks its descriptor; the error names why. */
static int load(json_object *head, char *why, size_t cap)
{
	const char *name = spn_json_str_or(head, "name", ""), *path = spn_json_str_or(head, "path", "");
	lt_dladvise adv;
	lt_dlhandle h;
	const spn_plugin_t *d;
	size_t n = 0;

	if (!spn_service_name_is_valid(name) || strchr(name, '/')) {
		snprintf(why, cap, "'%s' is not a plugin name", name);
		return -1;
	}
	snprintf(ctx.name, sizeof(ctx.name), "%s", name);
	if (lt_dlinit() != 0 || lt_dladvise_init(&adv) || lt_dladvise_ext(&adv) || lt_dladvise_resident(&adv) ||
	    lt_dladvise_local(&adv) || lt_dlsetsearchpath(path) != 0) {
		snprintf(why, cap, "libltdl: %s", lt_dlerror());
		return -1;
	}
	h = lt_dlopenadvise(name, adv);
	lt_dladvise_destroy(&adv);
	if (!h) {
		snprintf(why, cap, "cannot be loaded from %s: %s", path, lt_dlerror());
		return -1;
	}
	if (!(d = lt_dlsym(h, "spn_plugin"))) {
		snprintf(why, cap, "%s: no plugin descriptor (%s_LTX_spn_plugin, made by SPN_PLUGIN)",
			 lt_dlgetinfo(h) && lt_dlgetinfo(h)->filename ? lt_dlgetinfo(h)->filename : name, name);
		return -1;
	}
	if (d->abi_major != SPN_PLUGIN_ABI_MAJOR || d->abi_minor > SPN_PLUGIN_ABI_MINOR) {
		snprintf(why, cap, "built for plugin ABI %u.%u; this spnd takes %u.0 to %u.%u", d->abi_major,
			 d->abi_minor, SPN_PLUGIN_ABI_MAJOR, SPN_PLUGIN_ABI_MAJOR, SPN_PLUGIN_ABI_MINOR);
		return -1;
	}
	if (!d->name || strcmp(d->name, name) != 0) {
		snprintf(why, cap, "its descriptor names it '%s', not '%s'", d->name ? d->name : "", name);
		return -1;
	}
	for (; d->services && d->services[n]; n++)
		if (!spn_service_name_is_valid(d->services[n]) &&
		    (strcmp(d->services[n], SPN_PLUGIN_CONFIGURED_SERVICES) != 0 || d->abi_minor < 1)) {
			/* The marker came with ABI 1.1: before, it was no name. */
			snprintf(why, cap, "'%s' is not a service name", d->services[n]);
			return -1;
		}
	/* A CA policy plugin may do nothing else. */
	if ((n == 0) != (d->handle == NULL) || (n == 0 && !d->ca_authorize && !d->ca_adjust && !d->ca_issued)) {
		snprintf(why, cap, "a plugin provides services and handles them, or has CA policy hooks, or both");
		return -1;
	}
	for (const spn_plugin_opt_t *o = d->options; o && o->name; o++) {
		bool spnds = spn_plugin_key_is_spnds(o->name);
		size_t l = strlen(o->name);
		/* Families came with ABI 1.2, and stand for names after a stem. */
		bool fam = l >= 2 && strcmp(o->name + l - 2, ".*") == 0;
		if ((unsigned)o->type > SPN_OPT_PATH || spnds || (fam && (d->abi_minor < 2 || l < 3 || o->def)) ||
		    (!fam && strchr(o->name, '*'))) {
			snprintf(why, cap, "option '%s': %s", o->name,
				 spnds ? "the name is spnd's"
				 : (unsigned)o->type > SPN_OPT_PATH ? "unknown type"
				 : fam && d->abi_minor < 2	    ? "a family of options needs plugin ABI 1.2"
								    : "a family is a stem and '.*', without a default");
			return -1;
		}
	}
	ctx.desc = d;
	return 0;
}

static void describe(void)
{
	json_object *h = json_object_new_object(), *svc = json_object_new_array(), *opts = json_object_new_array();

	for (size_t i = 0; ctx.desc->services && ctx.desc->services[i]; i++)
		json_object_array_add(svc, json_object_new_string(ctx.desc->services[i]));
	for (const spn_plugin_opt_t *o = ctx.desc->options; o && o->name; o++) {
		json_object *j = json_object_new_object();
		json_object_object_add(j, "name", json_object_new_string(o->name));
		json_object_object_add(j, "type", json_object_new_string(type_names[o->type]));
		if (o->def)
			json_object_object_add(j, "default", json_object_new_string(o->def));
		json_object_object_add(j, "min", json_object_new_int64((int64_t)o->min));
		json_object_object_add(j, "max", json_object_new_int64((int64_t)o->max));
		json_object_array_add(opts, j);
	}
	json_object_object_add(h, "op", json_object_new_string("hello"));
	json_object_object_add(h, "name", json_object_new_string(ctx.desc->name));
	json_object_object_add(h, "abi_major", json_object_new_int(ctx.desc->abi_major));
	json_object_object_add(h, "abi_minor", json_object_new_int(ctx.desc->abi_minor));
	json_object_object_add(h, "services", svc);
	json_object_object_add(h, "options", opts);
	json_object_object_add(h, "ca_hooks",
			       json_object_new_boolean(ctx.desc->ca_authorize || ctx.desc->ca_adjust || ctx.desc->ca_issued));
	spn_frame_send(ctx.fd, h, NULL, 0);
	json_object_put(h);
}

/* The answers go back in one frame: the caller's reply (on success), then
 * one part per carried section, with "given" saying which were answered.
 * The parts are wiped: they are what the plugin wrote for others. */
static void send_answers(spn_request_t *req, json_object *h, bool ok)
{
	size_t n = spn_request_attached(req), total = ok ? req->reply.len : 0;
	json_object *parts = json_object_new_array(), *given = json_object_new_array();
	uint8_t *data, *w;

	if (n > SPN_HOST_PARTS - 1)
		n = SPN_HOST_PARTS - 1;
	for (size_t i = 0; i < n; i++)
		total += req->attached[i].len;
	if (!(w = data = malloc(total ? total : 1))) {
		/* spnd must hear something, or it waits for the timeout. */
		json_object_put(parts);
		json_object_put(given);
		answer("fail", "the plugin host ran out of memory for the answers");
		return;
	}
	json_object_array_add(parts, json_object_new_int64(ok ? (int64_t)req->reply.len : 0));
	if (ok && req->reply.len) {
		memcpy(w, req->reply.data, req->reply.len);
		w += req->reply.len;
	}
	for (size_t i = 0; i < n; i++) {
		spn_host_answer_t *a = &req->attached[i];
		json_object_array_add(parts, json_object_new_int64((int64_t)a->len));
		json_object_array_add(given, json_object_new_boolean(a->given));
		if (a->len) {
			memcpy(w, a->data, a->len);
			w += a->len;
		}
	}
	json_object_object_add(h, "parts", parts);
	json_object_object_add(h, "given", given);
	spn_frame_send(ctx.fd, h, data, total);
	explicit_bzero(data, total);
	free(data);
}

static void forget(spn_host_answer_t *a)
{
	if (a->data)
		explicit_bzero(a->data, a->len);
	free(a->data);
}

static void handle(json_object *head, const uint8_t *data, size_t len)
{
	spn_request_t req;
	json_object *h;
	bool ok;
	int rc;

	memset(&req, 0, sizeof(req));
	req.ctx = &ctx;
	req.head = head;
	req.data = data;
	req.len = len;
	rc = ctx.desc->handle(&ctx, &req);
	ok = rc == 0 && req.reply.given;
	h = json_object_new_object();
	json_object_object_add(h, "op", json_object_new_string(ok ? "reply" : "fail"));
	if (!ok)
		json_object_object_add(h, "message",
				       json_object_new_string(req.why && *req.why ? req.why
						      : rc ? "the service could not handle the section"
							   : "the service gave no reply"));
	send_answers(&req, h, ok);
	json_object_put(h);
	forget(&req.reply);
	for (size_t i = 0; i < SPN_HOST_PARTS - 1; i++)
		forget(&req.attached[i]);
	free(req.why);
	for (size_t i = 0; i < SPN_HOST_PARTS; i++) {
		if (req.copies[i])
			explicit_bzero(req.copies[i], req.copy_len[i]);
		free(req.copies[i]);
	}
}

/* A CA policy hook: what the PSP is about to issue, and the verdict. */
static void ca(json_object *head)
{
	const char *stage = spn_json_str_or(head, "stage", "");
	spn_ca_request_t r;
	json_object *h = json_object_new_object(), *v;
	int rc = 0;

	memset(&r, 0, sizeof(r));
	r.head = head;
	r.services = json_object_new_array();
	if (json_object_object_get_ex(head, "services", &v) && json_object_is_type(v, json_type_array))
		for (size_t i = 0; i < json_object_array_length(v); i++)
			json_object_array_add(r.services, json_object_get(json_object_array_get_idx(v, i)));
	r.validity = json_object_object_get_ex(head, "validity", &v) ? (unsigned long)json_object_get_int64(v) : 0;
	if (strcmp(stage, "authorize") == 0 && ctx.desc->ca_authorize)
		rc = ctx.desc->ca_authorize(&ctx, &r);
	else if (strcmp(stage, "adjust") == 0 && ctx.desc->ca_adjust)
		rc = ctx.desc->ca_adjust(&ctx, &r);
	else if (strcmp(stage, "issued") == 0 && ctx.desc->ca_issued)
		ctx.desc->ca_issued(&ctx, &r);
	json_object_object_add(h, "op", json_object_new_string("ca_verdict"));
	json_object_object_add(h, "allow", json_object_new_boolean(rc == 0));
	if (r.why)
		json_object_object_add(h, "reason", json_object_new_string(r.why));
	json_object_object_add(h, "services", r.services);
	json_object_object_add(h, "validity", json_object_new_int64((int64_t)r.validity));
	spn_frame_send(ctx.fd, h, NULL, 0);
	json_object_put(h);
	free(r.why);
}

/* spnd starts it without arguments; these are for a person who finds it. */
static int args(int argc, char **argv)
{
	if (argc == 2 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)) {
		printf("spn-plugin-host %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: spn-plugin-host   (started by spnd, with its socket on descriptor 3)\n"
		       "Runs one plugin of spnd in a process of its own; it is not meant to be run by hand.\n"
		       "  -h, --help     print this help\n"
		       "  -V, --version  print the version\n");
		return 0;
	}
	fprintf(stderr, "usage: spn-plugin-host   (started by spnd; spn-plugin-host --help)\n");
	return 2;
}

int main(int argc, char **argv)
{
	json_object *head;
	uint8_t *data;
	size_t len;
	char why[512];
	bool ready = false;

	if (argc > 1)
		return args(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	ctx.fd = 3;
	while (spn_frame_recv(ctx.fd, -1, &head, &data, &len) == 0) {
		const char *op = spn_json_str_or(head, "op", "");
		if (strcmp(op, "hello") == 0 && !ctx.desc) {
			json_object *c;
			char cwhy[400];
			if (json_object_object_get_ex(head, "confine", &c) && spn_host_confine(c, cwhy, sizeof(cwhy))) {
				snprintf(why, sizeof(why), "its process could not be confined: %s", cwhy);
				answer("error", why);
				break;
			}
			if (load(head, why, sizeof(why)) == 0)
				describe();
			else
				answer("error", why);
		} else if (strcmp(op, "init") == 0 && ctx.desc && !ready) {
			json_object *o;
			snprintf(ctx.node, sizeof(ctx.node), "%s", spn_json_str_or(head, "node", ""));
			if (json_object_object_get_ex(head, "options", &o))
				ctx.options = json_object_get(o);
			if (json_object_object_get_ex(head, "services", &o) && json_object_is_type(o, json_type_array))
				ctx.services = json_object_get(o);
			if (json_object_object_get_ex(head, "timeout_ms", &o))
				ctx.timeout_ms = (unsigned long)json_object_get_int64(o);
			if (ctx.desc->init && ctx.desc->init(&ctx) != 0) {
				answer("error", "init failed (its log says why)");
			} else {
				ready = true;
				answer("ready", NULL);
			}
		} else if (strcmp(op, "handle") == 0 && ready && ctx.desc->handle) {
			handle(head, data, len);
		} else if (strcmp(op, "ca") == 0 && ready) {
			ca(head);
		} else {
			answer("error", "unexpected request");
		}
		json_object_put(head);
		/* Sections and the answers to calls: plaintext. */
		explicit_bzero(data, len);
		free(data);
	}
	/* spnd closed the socket: the end. */
	if (ready && ctx.desc->fini)
		ctx.desc->fini(&ctx);
	json_object_put(ctx.options);
	json_object_put(ctx.services);
	lt_dlexit();
	return 0;
}
