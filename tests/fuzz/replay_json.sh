#!/bin/sh
# Replays the json fuzz corpus as a make check test.
exec sh "$(dirname "$0")/replay.sh" json
