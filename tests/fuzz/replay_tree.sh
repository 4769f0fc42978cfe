#!/bin/sh
# Replays the tree fuzz corpus as a make check test.
exec sh "$(dirname "$0")/replay.sh" tree
