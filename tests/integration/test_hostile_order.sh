#!/usr/bin/env bash
# A hostile CA's orders: identifiers added or replaced (refused before any challenge is answered), an 879 KB problem detail.
# Every refusal: non-zero exit, one escaped line, within a bound of seconds, nothing written
# outside the acmed dirs (also through planted symlinks), no process left, lineage byte-identical
# (tests/integration/hostile_lib.sh; the server is tests/support/hostile_acme.cpp).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile_lib.sh"
hostile_setup

for mode in renew new; do
  hostile_refused order-extra-name "order .* with names that were not requested \(evil.example\)" $mode
  no_event "^POST /chall/"
  no_event "^POST /authz/"
  hostile_refused order-replaced-name "names that were not requested \(evil.example\) and not the requested names \((a|c).test\)" $mode
  no_event "^POST /chall/"
done
hostile_refused order-problem-huge "the CA refused: A+ \([0-9]+ more bytes\)"
