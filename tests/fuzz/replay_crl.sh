#!/bin/sh
# Replays the crl fuzz corpus as a make check test.
exec sh "$(dirname "$0")/replay.sh" crl
