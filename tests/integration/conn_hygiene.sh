#!/bin/sh
# Connections that hold a node without finishing anything, on a real
# daemon with short deadlines, each attack while a client from another
# address asks for /v1/health and must be answered within 2 s:
# half-done TLS handshakes from many addresses, more than the server's
# ceiling (each closed within the handshake deadline); request headers and
# a body trickling in (dropped past the header deadline, or under the
# minimum body rate); many unfinished 1 MiB bodies (spnd's RSS stays near
# the body memory allowed, the rest refused 503); a chunked body past
# max_body (413 before its end).
. "$top_srcdir/tests/lib.sh"
# In a sanitizer build, the memory freed and kept aside to catch its use
# after free would count as the daemon's: a small quarantine keeps the
# figure the daemon's own.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4:thread_local_quarantine_size_kb=64"
export ASAN_OPTIONS
P="$WORK/psp"; CA="$P/ca/root.crt"
check "the PSP is made" new_group "$P" hygiene
printf '\n[http]\nlisten = 127.0.0.1\nport = 0\nport_file = spnd.port\nthreads = 2
max_connections = 128\nmax_connections_per_address = 48\nhandshake_timeout = 2s\nheader_timeout = 3s
body_memory = 8388608\nbody_memory_per_address = 4194304\n' >>"$P/spnd.conf"
check "it serves with short deadlines" node_start "$P"
PORT=$(cat "$P/spnd.port"); PID=$(cat "$P/pid")
probe() { $PY "$top_srcdir/tests/integration/edge_probe.py" "$@"; }
alive() { kill -0 "$PID"; }

check "192 half-done handshakes from 4 addresses (the ceiling is 128): clients served, all closed within the deadline" \
	probe handshakes "$PORT" "$CA" 127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5 48
check "headers a byte at a time, and a body: dropped past the deadline (3 s)" probe slowloris "$PORT" "$CA" 3
check "96 unfinished 1 MiB bodies from 4 addresses: spnd grows by under 48 MB, the rest refused 503" \
	probe bodies "$PORT" "$CA" "$PID" 127.0.0.6,127.0.0.7,127.0.0.8,127.0.0.9 24 48
check "a chunked body past max_body is answered 413 before its end" probe chunked "$PORT" "$CA" 1048576
check "60 connections proving a group certificate stay (the address's share is 48); anonymous ones are cut there" \
	probe members "$PORT" "$CA" "$P/node.crt" "$P/node.key" 60
check "spnd still runs" alive
is "and serves" 200 "" "$(node_url "$P")/v1/health"
