/* A client built outside spn's tree, the one spn_client(3) walks through:
 * one message to ping with a section for pong carried along, through the
 * node at URL, trusting the group's root certificate ROOT. */
#include <spn/client.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: band URL ROOT\n");
		return 2;
	}
	spn_client_config_t cfg = {.url = argv[1], .root_file = argv[2], .name = "band"};
	spn_client_part_t parts[] = {
		{.service = "ping", .data = "hello", .len = strlen("hello")},
		/* Not for ping: it travels unread with ping's call to pong. */
		{.service = "pong", .data = "carried", .len = strlen("carried"), .carry = true},
	};
	spn_client_reply_t replies[2];
	spn_client_t *c;
	int status = 0;

	if (spn_client_new(&cfg, &c) != SPN_CLIENT_OK) {
		fprintf(stderr, "band: %s\n", spn_client_last_error());
		return 1;
	}
	if (spn_client_send(c, parts, 2, replies) != SPN_CLIENT_OK) {
		fprintf(stderr, "band: %s\n", spn_client_last_error());
		spn_client_free(c);
		return 1;
	}
	for (size_t i = 0; i < 2; i++) {
		if (replies[i].error) {
			printf("%s: error %s (%s): %s\n", replies[i].service, replies[i].error_name,
			       spn_client_strerror(replies[i].error), replies[i].message);
			status = 1;
		} else {
			printf("%s from %s: %s\n", replies[i].service, replies[i].provider, (const char *)replies[i].data);
		}
		spn_client_reply_clear(&replies[i]);
	}
	spn_client_free(c);
	return status;
}
