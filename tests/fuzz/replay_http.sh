#!/bin/sh
# Replays the http fuzz corpus as a make check test.
exec sh "$(dirname "$0")/replay.sh" http
