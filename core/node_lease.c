/* Two PSPs, one group: both run with the same root key and the same
 * PostgreSQL ledger. Both issue and revoke, the database keeping the two
 * consistent. One of them at a time is active, the holder of a lease kept
 * in the ledger by the database's clock: it is the registry's root and
 * signs and pushes the CRL, again whenever the ledger's revocations
 * change, by either PSP or spnctl. The other answers everything else 503
 * standby, so that members and administrators, who know both addresses
 * ([node] parent), turn to the active one; it takes the lease when the
 * active one stops renewing it, signs a CRL (its number from the ledger,
 * never backwards) and rebuilds the registry from the children's next
 * heartbeats. A PSP on an SQLite ledger is always active. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "clock.h"
#include "error.h"
#include "log.h"
#include "node_internal.h"

#define LEASE_MS 3000

int spn_node_lease_init(spn_node_t *n)
{
	uint8_t r[6] = {0};
	int rc;

	if (!n->ca || !spn_ledger_shared(spn_ca_ledger(n->ca)))
		return 0;
	if ((rc = spn_conf_uint(n->conf, "ca", "lease_ms", LEASE_MS, 300, 600000, &n->lease_ms)))
		return rc;
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return spn_err(SPN_EIO, "no randomness for the lease holder's name");
	/* Unique to this process: a PSP started again is a new holder, and
	 * waits for its old lease to run out like anyone else. */
	snprintf(n->lease_holder, sizeof(n->lease_holder), "%s pid %d %02x%02x%02x%02x%02x%02x", n->url, (int)getpid(),
		 r[0], r[1], r[2], r[3], r[4], r[5]);
	n->lease = true;
	atomic_store(&n->standby, true);
	spn_log_info("PSP on a shared ledger: on standby until it holds the group's lease (%lu ms)", n->lease_ms);
	return 0;
}

/* Signs a CRL from the ledger and pushes it, as the active PSP. */
static void publish(spn_node_t *n, const char *why)
{
	if (spn_node_load_crl(n, true) == 0)
		spn_log_info("CRL signed and pushed (%s)", why);
}

void spn_node_lease_tick(spn_node_t *n)
{
	int64_t now = spn_clock_mono_ms();
	char who[sizeof(n->lease_holder)], mark[96] = "";
	bool held = false, was = !atomic_load(&n->standby);
	int rc = 0, mrc = -1;

	if (!n->lease)
		return;
	pthread_mutex_lock(&n->ca_lock);
	if (now >= n->lease_next) {
		n->lease_next = now + (int64_t)n->lease_ms / 3;
		rc = spn_ledger_lease(spn_ca_ledger(n->ca), n->lease_holder, n->lease_ms, &held, who, sizeof(who));
		if (rc == 0)
			n->lease_held = held;
		if (rc == 0 && held)
			n->lease_renewed = now;
	}
	if (rc == 0 && n->lease_held)
		mrc = spn_ledger_revocations(spn_ca_ledger(n->ca), mark, sizeof(mark));
	pthread_mutex_unlock(&n->ca_lock);
	if (rc) {
		/* Without the ledger the lease cannot be shown to be held: it
		 * is given up before it can have run out. */
		if (was && now - n->lease_renewed > (int64_t)n->lease_ms * 2 / 3) {
			n->lease_held = false;
			atomic_store(&n->standby, true);
			spn_log_error("the ledger does not answer (%s): on standby until it holds the lease again",
				      spn_err_detail(rc));
		}
		return;
	}
	if (!n->lease_held) {
		if (was) {
			atomic_store(&n->standby, true);
			spn_log_warn("the group's lease is held by %s: on standby", who);
		}
		return;
	}
	if (!was) {
		atomic_store(&n->standby, false);
		spn_log_info("holds the group's lease: the active PSP");
		snprintf(n->revocations, sizeof(n->revocations), "%s", mark);
		publish(n, "taking the lease");
	} else if (mrc == 0 && strcmp(mark, n->revocations) != 0) {
		snprintf(n->revocations, sizeof(n->revocations), "%s", mark);
		publish(n, "the ledger's revocations changed");
	}
}

/* What a PSP on standby still serves: health and metrics, and what the
 * ledger itself keeps consistent between two PSPs (enrollments, renewals,
 * tokens, revocations, the list of certificates). Not the registry, the
 * routes or the CRL: those are the active PSP's. */
static bool served_on_standby(const spn_http_route_t *r)
{
	static const char *const get[] = {"/v1/health", "/metrics", "/v1/metrics", "/v1/root", "/v1/certs", NULL};
	static const char *const post[] = {"/v1/enroll", "/v1/enroll/pseudo", "/v1/revoke", "/v1/token", "/v1/renew", NULL};
	const char *const *list = strcmp(r->method, "GET") == 0 ? get : post;

	for (size_t i = 0; list[i]; i++)
		if (strcmp(r->path, list[i]) == 0)
			return true;
	return false;
}

bool spn_node_gate(const spn_http_route_t *route, spn_http_resp_t *resp, void *user)
{
	spn_node_t *n = user;

	if (!n->lease || !atomic_load(&n->standby) || served_on_standby(route))
		return true;
	spn_http_error(resp, SPN_ESTANDBY, "this PSP is on standby: the group's other PSP holds the lease and serves");
	return false;
}

bool spn_node_standby(spn_node_t *n)
{
	return n->lease && atomic_load(&n->standby);
}
