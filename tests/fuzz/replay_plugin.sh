#!/bin/sh
# Replays the plugin fuzz corpus as a make check test.
exec sh "$(dirname "$0")/replay.sh" plugin
