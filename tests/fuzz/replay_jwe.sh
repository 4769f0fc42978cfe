#!/bin/sh
# Replays the jwe fuzz corpus as a make check test.
exec sh "$(dirname "$0")/replay.sh" jwe
