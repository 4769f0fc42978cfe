#!/bin/sh
# Replays the session fuzz corpus as a make check test.
exec sh "$(dirname "$0")/replay.sh" session
