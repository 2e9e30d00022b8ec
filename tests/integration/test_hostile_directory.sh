#!/usr/bin/env bash
# A hostile CA's directory: deep JSON is covered by test_hostile_json_bombs.sh; here a directory that is not JSON and terms of service full of terminal escapes.
# Every refusal: non-zero exit, one escaped line, within a bound of seconds, nothing written
# outside the acmed dirs (also through planted symlinks), no process left, lineage byte-identical
# (tests/integration/hostile_lib.sh; the server is tests/support/hostile_acme.cpp).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile_lib.sh"
hostile_setup

hostile_refused dir-not-json "is not an ACME directory"
hostile_refused dir-not-json "is not an ACME directory" timer
# The ToS URL is shown to the user: escaped, and its newline forges no "hint:" line.
hostile_refused dir-tos-escape "requires agreeing to its terms of service" fresh
grep -q 'hostile.example/tos\\x1b\[2J' "$H/run.err" || fail "the ToS URL is not shown escaped"
