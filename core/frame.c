/* Frame reading and writing with deadlines: poll before every read, so
 * that a plugin that stops answering costs its caller the timeout and no
 * more. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "error.h"
#include "frame.h"
#include "json.h"

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return spn_err(SPN_EIO, "the other end is gone (%s)", w < 0 ? strerror(errno) : "closed");
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int spn_frame_send(int fd, json_object *head, const uint8_t *data, size_t len)
{
	size_t hlen;
	const char *h = spn_json_text(head, &hlen);
	uint8_t pre[8];
	int rc;

	if (hlen > SPN_FRAME_HEAD_MAX || len > SPN_FRAME_DATA_MAX)
		return spn_err(SPN_ETOOBIG, "frame too large");
	pre[0] = (uint8_t)(hlen >> 24), pre[1] = (uint8_t)(hlen >> 16), pre[2] = (uint8_t)(hlen >> 8), pre[3] = (uint8_t)hlen;
	pre[4] = (uint8_t)(len >> 24), pre[5] = (uint8_t)(len >> 16), pre[6] = (uint8_t)(len >> 8), pre[7] = (uint8_t)len;
	if ((rc = write_all(fd, pre, sizeof(pre))) || (rc = write_all(fd, (const uint8_t *)h, hlen)))
		return rc;
	return len ? write_all(fd, data, len) : 0;
}

static int read_all(int fd, int64_t deadline, uint8_t *p, size_t n)
{
	while (n > 0) {
		struct pollfd pf = {fd, POLLIN, 0};
		int wait = -1, r;
		ssize_t got;
		if (deadline >= 0) {
			int64_t left = deadline - spn_clock_mono_ms();
			if (left <= 0)
				return SPN_ETIMEOUT;
			wait = left > 60000 ? 60000 : (int)left;
		}
		r = poll(&pf, 1, wait);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return spn_err(SPN_EIO, "poll: %s", strerror(errno));
		if (r == 0)
			continue;
		got = read(fd, p, n);
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (got <= 0)
			return spn_err(SPN_EIO, "the other end is gone (%s)", got < 0 ? strerror(errno) : "closed");
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

int spn_frame_recv(int fd, int timeout_ms, json_object **head, uint8_t **data, size_t *len)
{
	int64_t deadline = timeout_ms < 0 ? -1 : spn_clock_mono_ms() + timeout_ms;
	uint8_t pre[8], *h = NULL, *d = NULL;
	size_t hlen, dlen;
	int rc;

	*head = NULL;
	*data = NULL;
	*len = 0;
	if ((rc = read_all(fd, deadline, pre, sizeof(pre))))
		return rc;
	hlen = (size_t)pre[0] << 24 | (size_t)pre[1] << 16 | (size_t)pre[2] << 8 | pre[3];
	dlen = (size_t)pre[4] << 24 | (size_t)pre[5] << 16 | (size_t)pre[6] << 8 | pre[7];
	if (hlen == 0 || hlen > SPN_FRAME_HEAD_MAX || dlen > SPN_FRAME_DATA_MAX)
		return spn_err(SPN_EIO, "not a frame (header %zu bytes, data %zu)", hlen, dlen);
	if (!(h = malloc(hlen)) || !(d = malloc(dlen + 1))) {
		free(h);
		return SPN_ENOMEM;
	}
	if ((rc = read_all(fd, deadline, h, hlen)) || (rc = read_all(fd, deadline, d, dlen)) ||
	    (rc = spn_json_parse((const char *)h, hlen, head)) != 0) {
		free(h);
		free(d);
		return rc == SPN_EINVAL ? spn_err(SPN_EIO, "a frame whose header is not JSON") : rc;
	}
	if (!json_object_is_type(*head, json_type_object)) {
		json_object_put(*head);
		*head = NULL;
		free(h);
		free(d);
		return spn_err(SPN_EIO, "a frame whose header is not a JSON object");
	}
	free(h);
	d[dlen] = 0;
	*data = d;
	*len = dlen;
	return 0;
}

int spn_frame_part(json_object *head, const uint8_t *data, size_t len, size_t i, const uint8_t **p, size_t *plen)
{
	json_object *parts, *v;
	size_t off = 0, n;

	if (!json_object_object_get_ex(head, "parts", &parts) || !json_object_is_type(parts, json_type_array) ||
	    i >= (n = json_object_array_length(parts)))
		return spn_err(SPN_EINVAL, "no part %zu in the frame", i);
	for (size_t j = 0; j <= i; j++) {
		int64_t l;
		v = json_object_array_get_idx(parts, j);
		l = json_object_get_int64(v);
		if (!json_object_is_type(v, json_type_int) || l < 0 || (uint64_t)l > len - off)
			return spn_err(SPN_EINVAL, "the frame's parts do not add up");
		if (j == i) {
			*p = data + off;
			*plen = (size_t)l;
		}
		off += (size_t)l;
	}
	return 0;
}
