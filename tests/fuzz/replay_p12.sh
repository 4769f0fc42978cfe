#!/bin/sh
# Replays the p12 fuzz corpus as a make check test.
exec sh "$(dirname "$0")/replay.sh" p12
