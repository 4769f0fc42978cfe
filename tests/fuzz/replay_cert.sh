#!/bin/sh
# Replays the cert fuzz corpus as a make check test.
exec sh "$(dirname "$0")/replay.sh" cert
