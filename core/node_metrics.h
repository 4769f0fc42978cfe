/* What a node counts of its own work (routing, sections, heartbeats, the
 * CA's issuance), and where it is read: GET /metrics over HTTPS for the
 * group's members, and the local listener of [metrics] listen. Included
 * by core/node*.c alone. */
#pragma once

#include <stddef.h>

#include "http_server.h"
#include "metrics.h"
#include "node.h"

typedef enum { SPN_ROUTED_HERE, SPN_ROUTED_DOWN, SPN_ROUTED_UP, SPN_ROUTED_N } spn_node_routed_t;

typedef struct {
	spn_metrics_counter_t routed[SPN_ROUTED_N];
	spn_metrics_counter_t reroutes;          /* a provider below could not be had: another chosen */
	spn_metrics_counter_t heartbeats_missed; /* syncs the parent did not take */
	spn_metrics_counter_t issued;            /* PSP: certificates issued */
	spn_metrics_hist_t issue_latency;
	/* Sections by service, the certificate's then one for any other, and
	 * by outcome, SPN_OK then each error code: the label sets stay
	 * bounded whatever a client sends. */
	spn_metrics_counter_t *sections;
	size_t n_services;
	spn_http_server_t *listener; /* [metrics] listen, or NULL */
} spn_node_metrics_t;

/* The counters, once the node's identity is known. */
int spn_node_metrics_init(spn_node_t *n);
/* Starts the local listener when [metrics] listen says so. */
int spn_node_metrics_listen(spn_node_t *n);
/* Stops the listener; the counters go with the node. */
void spn_node_metrics_stop(spn_node_t *n);
void spn_node_metrics_free(spn_node_t *n);

void spn_node_metrics_routed(spn_node_t *n, spn_node_routed_t how);
/* A section acted on or refused for service (NULL: not known yet), rc
 * its outcome. */
void spn_node_metrics_section(spn_node_t *n, const char *service, int rc);

/* GET /metrics, for members. */
void spn_node_metrics_get(spn_http_req_t *req, spn_http_resp_t *resp, void *user);
