#!/bin/sh
# Replays the p11uri fuzz corpus as a make check test.
exec sh "$(dirname "$0")/replay.sh" p11uri
