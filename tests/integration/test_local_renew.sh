#!/usr/bin/env bash
# `acmed local cert --save` stores a lineage that `acmed renew` renews through the local CA (no
# ACME server involved); a renewal writes version 2, signed by the same local root.
. "$(dirname "$0")/lib.sh"
exclusive_system_resources

export HOME="$TEST_DIR/home" ACMED_LOCAL_CAROOT="$TEST_DIR/caroot"
export ACMED_LOCAL_SYSTEM_ROOT="$TEST_DIR/sysroot"  # never the real system store
mkdir -p "$HOME" "$ACMED_LOCAL_SYSTEM_ROOT/usr/local/share/ca-certificates"

acmed local install >/dev/null 2>&1 || true   # stores may be skipped; the CA must exist after
[ -f "$ACMED_LOCAL_CAROOT/rootCA.pem" ] || fail "local install did not create the CA"
(cd "$TEST_DIR" && acmed local cert --save app.test localhost) || fail "local cert --save failed"
acmed certificates --json | seen '"app.test"' || fail "the saved local certificate is not a lineage"

log "not due: renew leaves it alone"
acmed renew --cert-name app.test || fail "renew of a local lineage that is not due failed"
[ "$(readlink "$ACMED_CONFIG_DIR/live/app.test/cert.pem")" = "../../archive/app.test/cert1.pem" ] \
  || fail "a renewal happened although nothing was due"

log "forced: renewed by the local CA, version 2"
acmed renew --cert-name app.test --force-renewal || fail "forced renewal of a local lineage failed"
[ "$(readlink "$ACMED_CONFIG_DIR/live/app.test/cert.pem")" = "../../archive/app.test/cert2.pem" ] \
  || fail "the live link does not point at version 2"
openssl verify -CAfile "$ACMED_LOCAL_CAROOT/rootCA.pem" "$ACMED_CONFIG_DIR/live/app.test/cert.pem" \
  >/dev/null || fail "the renewed certificate is not signed by the local root"
openssl x509 -in "$ACMED_CONFIG_DIR/live/app.test/cert.pem" -noout -ext subjectAltName \
  | seen "DNS:app.test" || fail "the renewed certificate lost its names"
echo "local renew ok"
