#!/bin/sh
# Replays the conf fuzz corpus as a make check test.
exec sh "$(dirname "$0")/replay.sh" conf
