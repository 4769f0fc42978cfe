#!/bin/sh
# Replays the sig fuzz corpus as a make check test.
exec sh "$(dirname "$0")/replay.sh" sig
