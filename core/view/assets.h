/* The files of the live view (core/view/), built into libspn by
 * core/view/embed.sh: GET /view and what it loads are served from here. */
#pragma once

#include <stddef.h>

typedef struct {
	const char *name; /* the file's name in core/view/ */
	const unsigned char *data;
	size_t len;
} spn_view_asset_t;

extern const spn_view_asset_t spn_view_assets[];
extern const size_t spn_view_nassets;
