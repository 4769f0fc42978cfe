#!/bin/sh
# Replays the ident fuzz corpus as a make check test.
exec sh "$(dirname "$0")/replay.sh" ident
