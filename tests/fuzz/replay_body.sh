#!/bin/sh
# Replays the body fuzz corpus as a make check test.
exec sh "$(dirname "$0")/replay.sh" body
