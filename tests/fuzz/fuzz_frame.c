/* Fuzz target for the frames plugin processes send spnd: any bytes, read
 * as a frame from a pipe, and its parts taken apart. Neither may crash or
 * read outside the frame. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frame.h"
#include "fuzz.h"

const char fuzz_target[] = "frame";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *head = NULL;
	uint8_t *d = NULL;
	size_t len = 0;
	int fds[2];

	/* A pipe holds 64 KiB: more would block the writer. */
	if (size > 60000 || pipe(fds) != 0)
		return 0;
	if (write(fds[1], data, size) != (ssize_t)size) {
		close(fds[0]);
		close(fds[1]);
		return 0;
	}
	close(fds[1]);
	if (spn_frame_recv(fds[0], -1, &head, &d, &len) == 0) {
		for (size_t i = 0; i < 70; i++) {
			const uint8_t *p;
			size_t pl;
			if (spn_frame_part(head, d, len, i, &p, &pl) != 0)
				break;
			if (p < d || p + pl > d + len)
				abort();
		}
		json_object_put(head);
		free(d);
	}
	close(fds[0]);
	return 0;
}
