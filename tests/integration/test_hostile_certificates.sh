#!/usr/bin/env bash
# A hostile CA's certificates: other names, an added name, expired, not yet valid, a broken chain, a 10,000-certificate chain, the wrong key, not PEM. Each refused on first issuance, on renewal with certonly and on renewal from the timer.
# Every refusal: non-zero exit, one escaped line, within a bound of seconds, nothing written
# outside the acmed dirs (also through planted symlinks), no process left, lineage byte-identical
# (tests/integration/hostile_lib.sh; the server is tests/support/hostile_acme.cpp).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile_lib.sh"
hostile_setup

for mode in renew new timer; do
  hostile_refused cert-other-names "certificate with names that were not requested \(evil.example\) and not the requested names" $mode
  hostile_refused cert-extra-name "certificate with names that were not requested \(evil.example\)" $mode
  hostile_refused cert-expired "certificate that has already expired" $mode
  hostile_refused cert-not-yet-valid "certificate that is not valid yet" $mode
  hostile_refused cert-broken-chain "chain from the CA is broken: certificate 1 is not (issued|signed) by certificate 2" $mode
  hostile_refused cert-long-chain "more than 8 certificates" $mode
  hostile_refused cert-wrong-key "is not for the key in the request" $mode
  hostile_refused cert-not-pem "unexpected text at line 1" $mode
done
