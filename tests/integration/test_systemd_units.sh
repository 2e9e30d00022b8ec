#!/usr/bin/env bash
# systemd/acmed.service and acmed.timer pass `systemd-analyze verify`, keep the properties the
# renewal design relies on, and `cmake --install` puts them where systemd looks, with ExecStart
# naming the installed binary.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

need systemd-analyze  # scripts/deps.sh installs systemd
src="$ACMED_SOURCE_DIR/systemd"

# verify checks that ExecStart exists, so point it at the binary under test.
mkdir -p "$TEST_DIR/units"
sed "s|^ExecStart=/usr/bin/acmed |ExecStart=$ACMED_BIN |" "$src/acmed.service" >"$TEST_DIR/units/acmed.service"
cp "$src/acmed.timer" "$TEST_DIR/units/acmed.timer"
grep -q "^ExecStart=$ACMED_BIN renew -q$" "$TEST_DIR/units/acmed.service" || fail "ExecStart is not 'acmed renew -q'"
log "systemd-analyze verify"
out=$(cd "$TEST_DIR/units" && systemd-analyze verify --man=no acmed.service acmed.timer 2>&1) || {
  echo "$out" >&2
  fail "systemd-analyze verify rejected the units"
}
# verify also prints warnings without failing: there must be none about our units.
if echo "$out" | grep -E "acmed\.(service|timer)" >&2; then fail "systemd-analyze warned about the units"; fi

log "the properties the design needs"
svc="$src/acmed.service"
for line in "Type=oneshot" "NoNewPrivileges=yes" "PrivateTmp=yes" "ProtectSystem=strict" \
    "ProtectHome=yes" "Persistent=true" "RandomizedDelaySec=1h" "FixedRandomDelay=true" "WantedBy=timers.target"; do
  grep -qx "$line" "$svc" "$src/acmed.timer" || fail "missing: $line"
done
grep -q "^CapabilityBoundingSet=" "$svc" || fail "no capability bounding set"
grep -q "^ReadWritePaths=.*/etc/letsencrypt" "$svc" || fail "the config dir is not writable"
# hourly (a 6-day certificate's ARI window is a few hours wide), with a delay no longer than
# the period, so two runs are never more than an hour apart
[ "$(grep -c '^OnCalendar=hourly$' "$src/acmed.timer")" = 1 ] || fail "timer is not hourly"
next=$(systemd-analyze calendar --iterations=2 'hourly' | grep -c "Iter\|Next elapse") || true
[ "$next" -ge 2 ] || fail "systemd cannot parse the timer's calendar"

log "cmake --install places the units where systemd looks"
root="$TEST_DIR/root"
build="$TEST_DIR/build"
cmake -S "$ACMED_SOURCE_DIR" -B "$build" -G Ninja -DACMED_TESTS=OFF -DCMAKE_INSTALL_PREFIX="$root" \
  >/dev/null
# Only the systemd component: installing the binary would need a full build.
cmake --install "$build" --component systemd >/dev/null
[ -f "$root/lib/systemd/system/acmed.timer" ] || fail "acmed.timer not installed under lib/systemd/system"
grep -q "^ExecStart=$root/bin/acmed renew -q$" "$root/lib/systemd/system/acmed.service" \
  || fail "the installed ExecStart does not name the installed binary"
cmp -s "$src/acmed.timer" "$root/lib/systemd/system/acmed.timer" || fail "acmed.timer changed on install"
log "under journald (JOURNAL_STREAM names stderr) lines carry syslog priorities, no timestamps"
# No journald runs here: stderr goes to a file, and JOURNAL_STREAM names that file as systemd
# names the journal's stream socket, so acmed sees what it would see under the timer.
journal_run() {  # journal_run FILE ARGS...: acmed ARGS with stderr to FILE marked as the journal
  local file=$1; shift
  : >"$file"
  JOURNAL_STREAM=$(stat -c '%d:%i' "$file") acmed "$@" 2>>"$file" || true
}
journal_run "$TEST_DIR/j.err" certificates --cert-name nope.test
grep -qx "<3>no certificate named nope.test in $ACMED_CONFIG_DIR" "$TEST_DIR/j.err" \
  || { cat "$TEST_DIR/j.err"; fail "the error is not at priority 3"; }
grep -q "^<3>hint: " "$TEST_DIR/j.err" || { cat "$TEST_DIR/j.err"; fail "the hint is not filed with its error"; }
[ "$(grep -vc '^<[0-7]>' "$TEST_DIR/j.err")" = 0 ] || { cat "$TEST_DIR/j.err"; fail "a line without a priority"; }
grep -q '20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]' "$TEST_DIR/j.err" && fail "a journal line carries a timestamp"
journal_run "$TEST_DIR/q.err" -q certificates --cert-name nope.test
grep -q "^<3>hint: " "$TEST_DIR/q.err" || { cat "$TEST_DIR/q.err"; fail "-q (the timer's flag) drops the hint"; }
journal_run "$TEST_DIR/i.err" renew --dry-run
grep -q "^<6>" "$TEST_DIR/i.err" || { cat "$TEST_DIR/i.err"; fail "no info line at priority 6"; }
# Not the journal: a terminal or a pipe gets no prefixes, even with JOURNAL_STREAM inherited.
out=$(JOURNAL_STREAM=1:1 acmed certificates --cert-name nope.test 2>&1) && fail "certificates succeeded"
grep -q "^<" <<<"$out" && fail "priority prefixes outside the journal: $out"
grep -q "^no certificate named nope.test" <<<"$out" || fail "the plain error changed: $out"
log "PASS"
