/* A group for the unit tests that need real certificates: made in a fresh
 * directory under /tmp as spnctl init makes it. */
#pragma once

#include <gnutls/x509.h>

#include "ca.h"
#include "conf.h"

#define UNIT_GROUP_DIR 64

/* The group name in dir (UNIT_GROUP_DIR bytes), its configuration, its CA
 * open with the root key and its root certificate: the caller closes,
 * frees and deinits them. */
int unit_group_new(const char *name, char *dir, spn_conf_t **conf, spn_ca_t **ca, gnutls_x509_crt_t *root);

/* Removes the directory and all in it. */
int unit_group_remove(const char *dir);
