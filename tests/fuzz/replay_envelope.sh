#!/bin/sh
# Replays the envelope fuzz corpus as a make check test.
exec sh "$(dirname "$0")/replay.sh" envelope
