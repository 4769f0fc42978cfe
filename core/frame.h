/* Frames between spnd and the processes its plugins run in: a JSON header
 * and a run of bytes, each with its length in front, over a stream socket.
 * The header says what the frame is; the bytes carry plaintexts as they
 * are, with "parts" in the header when there are several. */
#pragma once

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#define SPN_FRAME_HEAD_MAX (1024 * 1024)
#define SPN_FRAME_DATA_MAX (64 * 1024 * 1024)

/* Sends one frame (takes no reference to head). */
int spn_frame_send(int fd, json_object *head, const uint8_t *data, size_t len);

/* Receives one frame within timeout_ms (-1: no limit): SPN_ETIMEOUT when
 * none came in time, SPN_EIO when the other end closed or sent something
 * that is not a frame. *data (NUL-terminated, may be empty) is the caller's
 * to free, *head to put. */
int spn_frame_recv(int fd, int timeout_ms, json_object **head, uint8_t **data, size_t *len);

/* The i-th of the parts the header lists ("parts": [n0, n1, ...]) within
 * data; SPN_EINVAL when the parts do not add up. */
int spn_frame_part(json_object *head, const uint8_t *data, size_t len, size_t i, const uint8_t **p, size_t *plen);
