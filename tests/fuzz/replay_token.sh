#!/bin/sh
# Replays the token fuzz corpus as a make check test.
exec sh "$(dirname "$0")/replay.sh" token
