#!/usr/bin/env bash
# A hostile CA's nonces: every nonce rejected (bounded retries), and nonces that are not base64url.
# Every refusal: non-zero exit, one escaped line, within a bound of seconds, nothing written
# outside the acmed dirs (also through planted symlinks), no process left, lineage byte-identical
# (tests/integration/hostile_lib.sh; the server is tests/support/hostile_acme.cpp).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile_lib.sh"
hostile_setup

hostile_refused nonce-always-bad "rejected [0-9]+ fresh nonces in a row"
hostile_refused nonce-garbage "sent no Replay-Nonce"
