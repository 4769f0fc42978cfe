/* The configuration keys the core owns ([node], [log], [ca], [profile.*]),
 * checked before anything starts so that a bad file fails with its file,
 * line, section and key. */
#pragma once

#include "conf.h"

/* Checks every core section; sections under "plugin." are left to the
 * plugins' own schemas. */
int spn_schema_check(const spn_conf_t *c);

/* Opens the log as [log] says. */
int spn_schema_open_log(const spn_conf_t *c);
