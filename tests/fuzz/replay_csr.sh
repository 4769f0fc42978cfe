#!/bin/sh
# Replays the csr fuzz corpus as a make check test.
exec sh "$(dirname "$0")/replay.sh" csr
