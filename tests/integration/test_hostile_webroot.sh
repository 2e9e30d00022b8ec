#!/usr/bin/env bash
# Issue 14 item 5 against the hostile server: whoever owns a webroot plants symlinks, and a CA
# hands out tokens that name them. The challenge directory reached through a .well-known link
# whose target is writable by others is refused, naming the link, on first issuance, renewal
# and from the timer. (Tokens naming a planted link or climbing out of the webroot are in
# test_hostile_challenges.sh; the plugin's own symlink rules are unit-tested in tests/unit/webroot.)
# Every refusal: non-zero exit, one escaped line, within a bound of seconds, nothing written
# outside the acmed dirs (also through planted symlinks), no process left, lineage byte-identical
# (tests/integration/hostile_lib.sh; the server is tests/support/hostile_acme.cpp).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile_lib.sh"
hostile_setup

# A .well-known shared through a symlink into a directory anyone may write to.
mv "$WWW/.well-known" "$H/www-wellknown-saved"
mkdir -p "$H/shared/acme-challenge"
chmod 0777 "$H/shared" "$H/shared/acme-challenge"
ln -s "$H/shared" "$WWW/.well-known"
OUTSIDE_DIGEST=$(_outside_digest)
for mode in renew new timer; do
  hostile_refused good "refusing to follow the symlink .*/\.well-known.*writable by others" $mode
  no_event "^POST /chall/"
  [ -z "$(ls -A "$H/shared/acme-challenge")" ] || fail "acmed wrote into the shared directory"
done
