#!/bin/sh
# Replays the frame fuzz corpus as a make check test.
exec sh "$(dirname "$0")/replay.sh" frame
