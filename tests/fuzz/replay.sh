#!/bin/sh
# Replays the seed corpus of one fuzz target (named by $1: token, csr, ...)
# through its replay build; the target itself prints the TAP lines. make
# check exports top_srcdir and top_builddir; by hand, both default to the
# tree this script sits in.
name=${1:?usage: replay.sh TARGET}
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$here/../..}
top_builddir=${top_builddir:-$top_srcdir}
exec "$top_builddir/tests/fuzz/fuzz_$name" "$top_srcdir/tests/fuzz/corpus/$name"
