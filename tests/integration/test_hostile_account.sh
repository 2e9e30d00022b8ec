#!/usr/bin/env bash
# A hostile CA's account answers: a problem full of escapes, a deactivated account.
# Every refusal: non-zero exit, one escaped line, within a bound of seconds, nothing written
# outside the acmed dirs (also through planted symlinks), no process left, lineage byte-identical
# (tests/integration/hostile_lib.sh; the server is tests/support/hostile_acme.cpp).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile_lib.sh"
hostile_setup

HOSTILE_EXTRA_ARGS=(--agree-tos)
hostile_refused account-problem-escape "the CA refused: .*x1b" fresh
HOSTILE_EXTRA_ARGS=(--agree-tos)
hostile_refused account-deactivated "is deactivated" fresh
[ ! -d "$H/etc-fresh/accounts" ] || [ -z "$(find "$H/etc-fresh/accounts" -name regr.json)" ] \
  || fail "a deactivated account was stored"
