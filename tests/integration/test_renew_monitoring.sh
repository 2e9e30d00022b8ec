#!/usr/bin/env bash
# Monitoring of `acmed renew` against Pebble: the Prometheus metrics file (promtool check metrics,
# values against the certificates themselves, failures counted run after run, untouched by a dry
# run, at its default place without --metrics-file, a bad --metrics-file refused before anything
# happens), the failed hooks (--failed-hook and renewal-hooks/failed/ with FAILED_LINEAGES,
# FAILED_DOMAINS and ACMED_FAILURES; quiet after a good run) and the example alert rules
# (promtool check rules / test rules).
. "$(dirname "$0")/lib.sh"

need promtool
need python3

start_pebble
METRICS="$TEST_DIR/textfile/acmed.prom"
mkdir -p "$TEST_DIR/textfile" "$TEST_DIR/empty-webroot"
ALERTS="$TEST_DIR/alerts.log"
standalone() {
  acmed_pebble certonly --standalone --http-01-port "$HTTP01_PORT" --http-01-address 127.0.0.1 "$@"
}
conf() { echo "$ACMED_CONFIG_DIR/renewal/$1.conf"; }
version_of() { readlink "$ACMED_CONFIG_DIR/live/$1/cert.pem" | sed 's/.*cert\([0-9]*\)\.pem/\1/'; }
# metric NAME LINEAGE: the value of NAME{lineage="LINEAGE"} in the metrics file
metric() { sed -n "s/^$1{lineage=\"$2\"} //p" "$METRICS"; }
unix_time_of() { date -d "$(openssl x509 -in "$1" -noout "-$2" | cut -d= -f2)" +%s; }
failed_hook='printf "%s|%s|%s\n" "$FAILED_LINEAGES" "$FAILED_DOMAINS" "$ACMED_FAILURES" >>'" '$ALERTS'"
renew() { acmed_pebble renew --metrics-file "$METRICS" --failed-hook "$failed_hook" "$@"; }

log "two lineages; bad.test renews through a webroot nothing serves"
standalone -d good.test >/dev/null 2>&1 || fail "certonly good.test"
standalone -d bad.test -d www.bad.test >/dev/null 2>&1 || fail "certonly bad.test"
sed -i -e 's/^authenticator = .*/authenticator = webroot/' "$(conf bad.test)"
printf 'webroot_path = %s,\n[[webroot_map]]\nbad.test = %s\nwww.bad.test = %s\n' \
  "$TEST_DIR/empty-webroot" "$TEST_DIR/empty-webroot" "$TEST_DIR/empty-webroot" >>"$(conf bad.test)"
sed -i '1i renew_before_expiry = 36500 days' "$(conf bad.test)"

log "a good run writes the metrics and calls no failed hook"
out=$(acmed_pebble renew --cert-name good.test --metrics-file "$METRICS" \
  --failed-hook "$failed_hook" 2>&1) || { echo "$out"; fail "renew of good.test"; }
[ -f "$METRICS" ] || fail "no metrics file at $METRICS"
[ ! -e "$ALERTS" ] || fail "the failed hook ran after a run without failures: $(cat "$ALERTS")"
promtool check metrics <"$METRICS" || { cat "$METRICS"; fail "promtool rejects the metrics"; }
[ "$(stat -c %a "$METRICS")" = 644 ] || fail "metrics file mode $(stat -c %a "$METRICS")"
cert="$ACMED_CONFIG_DIR/live/good.test/cert.pem"
[ "$(metric acmed_certificate_expiry_timestamp_seconds good.test)" = "$(unix_time_of "$cert" enddate)" ] ||
  fail "expiry of good.test: $(metric acmed_certificate_expiry_timestamp_seconds good.test), cert says $(unix_time_of "$cert" enddate)"
[ "$(metric acmed_certificate_not_before_timestamp_seconds good.test)" = "$(unix_time_of "$cert" startdate)" ] ||
  fail "not-before of good.test is wrong"
# bad.test was not part of the run, but the file covers every lineage
bcert="$ACMED_CONFIG_DIR/live/bad.test/cert.pem"
[ "$(metric acmed_certificate_expiry_timestamp_seconds bad.test)" = "$(unix_time_of "$bcert" enddate)" ] ||
  fail "the metrics leave out bad.test, which the run did not check"
[ "$(metric acmed_renewal_consecutive_failures good.test)" = 0 ] || fail "failures of good.test"
seen -x "acmed_renew_last_run_success 1" <"$METRICS" || fail "the good run is not a success"
seen -x 'acmed_renew_last_run_lineages{outcome="not_due"} 1' <"$METRICS" || fail "run totals"
last_run=$(sed -n 's/^acmed_renew_last_run_timestamp_seconds //p' "$METRICS")
[ $(( $(date +%s) - last_run )) -lt 120 ] || fail "last run time $last_run is not now"

log "a failing renewal: counted, timed, alerted with its environment"
mkdir -p "$ACMED_CONFIG_DIR/renewal-hooks/failed"
printf '#!/bin/sh\necho "dir $FAILED_LINEAGES" >> "%s"\n' "$ALERTS" \
  >"$ACMED_CONFIG_DIR/renewal-hooks/failed/10-alert"
chmod +x "$ACMED_CONFIG_DIR/renewal-hooks/failed/10-alert"
before=$(date +%s)
with_new_account expect_fail renew
[ "$(version_of bad.test)" = 1 ] || fail "bad.test was renewed through an empty webroot"
[ "$(metric acmed_renewal_consecutive_failures bad.test)" = 1 ] ||
  fail "consecutive failures of bad.test: $(metric acmed_renewal_consecutive_failures bad.test)"
attempt=$(metric acmed_renewal_last_attempt_timestamp_seconds bad.test)
[ -n "$attempt" ] && [ "$attempt" -ge "$before" ] || fail "last attempt of bad.test: '$attempt'"
[ -z "$(metric acmed_renewal_last_success_timestamp_seconds bad.test)" ] ||
  fail "bad.test has a last success"
seen -x "acmed_renew_last_run_success 0" <"$METRICS" || fail "the failing run counts as a success"
seen -x 'acmed_renew_last_run_lineages{outcome="failed"} 1' <"$METRICS" || fail "failed total"
promtool check metrics <"$METRICS" || fail "promtool rejects the metrics after a failure"
[ "$(wc -l <"$ALERTS")" = 2 ] || { cat "$ALERTS"; fail "the failed hooks did not run once each"; }
IFS='|' read -r lineages domains failures <"$ALERTS"
[ "$lineages" = bad.test ] || fail "FAILED_LINEAGES='$lineages'"
[ "$domains" = "bad.test www.bad.test" ] || fail "FAILED_DOMAINS='$domains'"
python3 - "$failures" "$(unix_time_of "$bcert" enddate)" <<'PY' || fail "ACMED_FAILURES: $failures"
import json, sys, time
f = json.loads(sys.argv[1])
assert len(f) == 1, f
e = f[0]
assert e["lineage"] == "bad.test" and e["domains"] == ["bad.test", "www.bad.test"], e
assert "renewal failed" in e["error"], e
left = (int(sys.argv[2]) - time.time()) / 86400
assert abs(e["days_left"] - left) < 0.2, (e["days_left"], left)
assert e["next_retry"] and e["not_after"], e
PY
sed -n 2p "$ALERTS" | seen -x "dir bad.test" || fail "the directory failed hook did not run"

log "the next failure counts two; renew --json says what the summary lines say"
renew_json() { renew --json >"$TEST_DIR/renew.json"; }
with_new_account expect_fail renew_json
[ "$(metric acmed_renewal_consecutive_failures bad.test)" = 2 ] || fail "failures do not add up"
python3 - "$TEST_DIR/renew.json" <<'PY' || fail "renew --json: $(cat "$TEST_DIR/renew.json")"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["version"] == 1 and j["ok"] is False and j["dry_run"] is False, j
assert j["counts"] == {"renewed": 0, "not_due": 1, "skipped": 0, "failed": 1}, j["counts"]
by = {l["name"]: l for l in j["lineages"]}
assert by["bad.test"]["outcome"] == "failed" and "renewal failed" in by["bad.test"]["reason"], by
assert by["good.test"]["outcome"] == "not_due" and by["good.test"]["next_due"], by
assert [a["lineage"] for a in j["alerts"]] == ["bad.test"], j["alerts"]
PY

log "a dry run leaves the metrics file alone and alerts nobody"
digest=$(sha256sum "$METRICS")
alerts_before=$(wc -l <"$ALERTS")
with_new_account expect_fail renew --dry-run
[ "$(sha256sum "$METRICS")" = "$digest" ] || fail "a dry run rewrote the metrics file"
[ "$(wc -l <"$ALERTS")" = "$alerts_before" ] || fail "a dry run called the failed hooks"

log "a --metrics-file in a directory that does not exist: one line, nothing renewed"
tree_before=$(tree_digest "$ACMED_CONFIG_DIR")
expect_fail acmed_pebble renew --force-renewal --cert-name good.test \
  --metrics-file "$TEST_DIR/nope/acmed.prom"
[ "$(printf '%s\n' "$LAST_ERR" | wc -l)" -le 2 ] || fail "more than an error line and its hint"
echo "$LAST_ERR" | seen "nope" || fail "the error does not name the directory"
[ "$(version_of good.test)" = 1 ] || fail "good.test was renewed although the options were bad"
[ "$(tree_digest "$ACMED_CONFIG_DIR")" = "$tree_before" ] || fail "the config dir changed"

log "without --metrics-file the file is written under the work dir"
acmed_pebble renew --cert-name good.test >/dev/null 2>&1 || fail "renew without --metrics-file"
promtool check metrics <"$TEST_DIR/work/acmed/acmed.prom" || fail "default metrics file"

log "the example alert rules are valid and fire as documented"
rules="$(dirname "$0")/../../docs/monitoring"
promtool check rules "$rules/acmed-alerts.yml" || fail "promtool check rules"
(cd "$rules" && promtool test rules acmed-alerts.test.yml) || fail "promtool test rules"
echo "PASS"
