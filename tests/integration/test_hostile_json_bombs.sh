#!/usr/bin/env bash
# JSON bombs: ~100 KB of nested arrays in the directory, account, order, authorization, challenge and problem documents end the run with an error, not a crash.
# Every refusal: non-zero exit, one escaped line, within a bound of seconds, nothing written
# outside the acmed dirs (also through planted symlinks), no process left, lineage byte-identical
# (tests/integration/hostile_lib.sh; the server is tests/support/hostile_acme.cpp).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile_lib.sh"
hostile_setup

hostile_refused dir-deep-json "nested more than 64 levels deep"
hostile_refused dir-deep-json "nested more than 64 levels deep" timer
HOSTILE_EXTRA_ARGS=(--agree-tos)
hostile_refused account-deep-json "nested more than 64 levels deep" fresh
hostile_refused order-deep-json "nested more than 64 levels deep"
hostile_refused authz-deep-json "nested more than 64 levels deep"
hostile_refused challenge-deep-json "nested more than 64 levels deep"
hostile_refused problem-deep-json "HTTP 400 .* \(the CA sent JSON nested more than 64 levels deep\)"
