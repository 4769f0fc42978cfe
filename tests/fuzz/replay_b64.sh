#!/bin/sh
# Replays the b64 fuzz corpus as a make check test.
exec sh "$(dirname "$0")/replay.sh" b64
