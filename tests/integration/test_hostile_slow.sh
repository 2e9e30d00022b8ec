#!/usr/bin/env bash
# Issue 14 item 6: slow and stalled servers, and waits a hostile CA asks for. A directory whose
# headers come but whose body never does, one trickled a byte a second, a server that accepts
# and never answers, an order stuck in "processing", and a 503 asking to come back in a day:
# each ends the run within a bound instead of holding it (the per-request low-speed limit, the
# --issuance-timeout budget, a Retry-After longer than the budget ends the run at once).
# Every refusal: non-zero exit, one escaped line, within a bound of seconds, nothing written
# outside the acmed dirs (also through planted symlinks), no process left, lineage byte-identical
# (tests/integration/hostile_lib.sh; the server is tests/support/hostile_acme.cpp).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile_lib.sh"
hostile_setup

# The low-speed limit cuts a body slower than a few hundred bytes a second after 10 s; the
# directory (a replay-safe GET) is tried three times: 30 s.
HOSTILE_BOUND=40
hostile_refused trickle-directory "Operation too slow"
HOSTILE_BOUND=20
# The whole issuance is bounded by --issuance-timeout, whichever step hangs, retries included.
HOSTILE_EXTRA_ARGS=(--issuance-timeout 12)
hostile_refused stall-directory "did not finish within the issuance timeout \(12 s\)"
HOSTILE_EXTRA_ARGS=(--issuance-timeout 5)
hostile_refused hang-directory "did not finish within the issuance timeout \(5 s\)"
HOSTILE_EXTRA_ARGS=(--issuance-timeout 6)
hostile_refused order-processing-forever "timed out after 6 s \(the issuance timeout\) waiting for the CA to process the order"
HOSTILE_EXTRA_ARGS=(--issuance-timeout 6)
hostile_refused order-processing-forever "timed out after 6 s \(the issuance timeout\) waiting for the CA to process the order" timer
# Retry-After: 86400 on a 503 is not slept: the run ends at once, naming when to retry.
start=$SECONDS
hostile_refused retry-after-huge "retry after 86400 s"
[ $((SECONDS - start)) -lt 10 ] || fail "acmed waited $((SECONDS - start)) s on a Retry-After of a day"
grep -q "^hint: run acmed again after 20[0-9-]*T[0-9:]*Z" "$H/run.err" || fail "no time to retry in the hint"
