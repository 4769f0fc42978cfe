#!/bin/sh
# Replays the key fuzz corpus as a make check test.
exec sh "$(dirname "$0")/replay.sh" key
