#!/usr/bin/env bash
# Issue 14 item 4: URLs a hostile CA hands out. The directory is plain http on loopback, so
# plain http is allowed only to that same origin: a newOrder or finalize URL on another loopback
# port (a service on this machine, which records whatever reaches it) and a certificate URL on
# the same server under another host name are refused before anything is sent there.
# Every refusal: non-zero exit, one escaped line, within a bound of seconds, nothing written
# outside the acmed dirs (also through planted symlinks), no process left, lineage byte-identical
# (tests/integration/hostile_lib.sh; the server is tests/support/hostile_acme.cpp). The https
# rules (an https directory hands out only https, private and loopback addresses refused after
# DNS) are unit-tested in tests/unit/acme (no https CA here).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile_lib.sh"
hostile_setup

own_origin="only to the directory's own origin \(http://127\.0\.0\.1:[0-9]+\)"
for mode in renew new timer; do
  hostile_refused url-dir-local-service "refusing the URL 'http://127\.0\.0\.1:[0-9]+/admin/new-order': .*$own_origin" $mode
  no_event "^LOCAL"
  no_event "^POST /new-order"
done
hostile_refused url-finalize-local-service "refusing the URL 'http://127\.0\.0\.1:[0-9]+/admin/finalize': .*$own_origin"
no_event "^LOCAL"
hostile_refused url-cert-other-host "refusing the URL 'http://localhost:[0-9]+/cert/[0-9]+': .*$own_origin"
no_event "^LOCAL"
no_event "^POST /cert/"
