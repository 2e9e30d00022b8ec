#!/usr/bin/env bash
# A hostile CA's authorizations and challenges: an authorization for a name not in the order, unsafe and planted tokens, a failed validation whose problem is full of escapes.
# Every refusal: non-zero exit, one escaped line, within a bound of seconds, nothing written
# outside the acmed dirs (also through planted symlinks), no process left, lineage byte-identical
# (tests/integration/hostile_lib.sh; the server is tests/support/hostile_acme.cpp).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile_lib.sh"
hostile_setup

hostile_refused authz-foreign-name "authorization .* for evil.example, which the order does not contain"
no_event "^POST /chall/"
hostile_refused challenge-token-traversal "unsafe http-01 token"
no_event "^POST /chall/"
# The token names a symlink planted in the webroot: acmed replaces the link, never writes
# through it (the directory itself being a symlink is webconf's test).
hostile_refused challenge-planted-token "could not validate .* with http-01"
[ -L "$WWW/.well-known/acme-challenge/planted" ] || [ ! -e "$WWW/.well-known/acme-challenge/planted" ] \
  || fail "the planted token link became a file"
hostile_refused challenge-invalid-escape "could not validate a.test with http-01: .*x1b"
