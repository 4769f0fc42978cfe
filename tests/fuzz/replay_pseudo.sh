#!/bin/sh
# Replays the pseudo fuzz corpus as a make check test.
exec sh "$(dirname "$0")/replay.sh" pseudo
