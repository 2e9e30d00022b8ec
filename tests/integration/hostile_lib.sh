# The hostile-CA harness: runs the real acmed against tests/support/hostile_acme.cpp (a scripted
# malicious ACME server on 127.0.0.1) and checks what every refusal must look like.
#
# Source it after lib.sh from a test_hostile_*.sh script, then:
#   hostile_setup                 starts the server, issues the lineage a.test (a.test, b.test)
#                                 honestly, plants symlinks that point outside, takes snapshots
#   hostile_refused SCENARIO PATTERN [MODE]
#                                 acmed must fail against SCENARIO with one escaped line matching
#                                 PATTERN (grep -E), within $HOSTILE_BOUND seconds, with nothing
#                                 written outside the acmed dirs, no process left behind and the
#                                 lineage byte-identical. MODE: renew (default: certonly
#                                 --force-renewal of a.test), new (first issuance of c.test: no
#                                 lineage may appear), timer (`acmed renew --force-renewal`),
#                                 fresh (first issuance of c.test with a new config dir, so a
#                                 new account is registered; add --agree-tos yourself).
#   no_event REGEX                the server was sent no request matching REGEX (since the last
#                                 hostile_refused)
# The server's scenarios are listed at the top of hostile_acme.cpp; HOSTILE_EXTRA_ARGS (an
# array) adds flags to the next acmed run.

: "${ACMED_HOSTILE_ACME:?ACMED_HOSTILE_ACME must point at the hostile_acme binary (ctest sets it)}"
HOSTILE_BOUND=${HOSTILE_BOUND:-20}
HOSTILE_EXTRA_ARGS=()
H="$TEST_DIR"
WWW="$H/www"
OUTSIDE="$H/outside"

_hostile_run() {
  "$ACMED_BIN" --config-dir "$H/etc" --work-dir "$H/work" --logs-dir "$H/logs" "$@"
}

# Everything under $H outside the acmed dirs, the webroot, the server's files and our own
# captures: names, modes, link targets and contents.
_outside_digest() {
  (cd "$H" && find . \( -path ./etc -o -path ./etc-fresh -o -path ./work -o -path ./logs -o -path ./www \
      -o -name 'events' -o -name 'scenario' -o -name 'run.*' -o -name 'server.log' \) -prune \
      -o -printf '%p %m %l\n' | LC_ALL=C sort
   cd "$H" && find . \( -path ./etc -o -path ./etc-fresh -o -path ./work -o -path ./logs -o -path ./www \
      -o -name 'events' -o -name 'scenario' -o -name 'run.*' -o -name 'server.log' \) -prune \
      -o -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum) | sha256sum | cut -d' ' -f1
}

_lineage_digest() {
  (cd "$H/etc" && for d in live/a.test archive/a.test renewal/a.test.conf; do
     find "$d" -printf '%p %m %l\n' | LC_ALL=C sort
     find "$d" -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
   done) | sha256sum | cut -d' ' -f1
}

hostile_setup() {
  mkdir -p "$WWW" "$OUTSIDE"
  echo good >"$H/scenario"
  start_bg server "$ACMED_HOSTILE_ACME" --scenario-file "$H/scenario" --port-file "$H/port" \
    --events "$H/events" --lifetime 900
  HOSTILE_PID=$BG_PID
  for _ in $(seq 1 100); do [ -s "$H/port" ] && break; sleep 0.1; done
  [ -s "$H/port" ] || fail "hostile_acme did not start: $(cat "$H/server.log")"
  HOSTILE_URL="http://127.0.0.1:$(cat "$H/port")/dir"
  # Plain http is allowed for a loopback directory (and only there).
  _hostile_run certonly --server "$HOSTILE_URL" --non-interactive --agree-tos \
    --register-unsafely-without-email --webroot -w "$WWW" -d a.test -d b.test \
    >"$H/run.setup" 2>&1 || { cat "$H/run.setup"; fail "the honest flow of hostile_acme failed"; }
  [ -f "$H/etc/live/a.test/fullchain.pem" ] || fail "no lineage a.test after the honest flow"
  # Symlinks a hostile CA would love acmed to follow: lineage dirs for the name it injects, and
  # a challenge file name it hands out as a token.
  mkdir -p "$H/etc/live" "$H/etc/archive" "$H/etc/renewal" "$WWW/.well-known/acme-challenge"
  ln -s "$OUTSIDE" "$H/etc/live/evil.example"
  ln -s "$OUTSIDE" "$H/etc/archive/evil.example"
  ln -s "$OUTSIDE/evil.conf" "$H/etc/renewal/evil.example.conf"
  ln -s "$OUTSIDE/planted" "$WWW/.well-known/acme-challenge/planted"
  ln -s "$OUTSIDE" "$H/etc/live/c.test"
  LINEAGE_DIGEST=$(_lineage_digest)
  OUTSIDE_DIGEST=$(_outside_digest)
}

# check_escaped FILE WHAT: FILE has no raw control bytes (other than LF), no C1 or bidi
# controls, no line longer than 9000 bytes, and no line that a CA's newline forged.
check_escaped() {
  local file=$1 what=$2
  if LC_ALL=C grep -naP '[\x00-\x09\x0b-\x1f\x7f]' "$file" >/dev/null; then
    fail "$what holds raw control characters: $(LC_ALL=C grep -naP '[\x00-\x09\x0b-\x1f\x7f]' "$file" | head -3 | od -c | head -5)"
  fi
  if LC_ALL=C grep -naP '\xc2[\x80-\x9f]|\xe2\x80[\xa8-\xae]|\xe2\x81[\xa6-\xa9]|\xd8\x9c|\xe2\x80[\x8e\x8f]' "$file" >/dev/null; then
    fail "$what holds C1 or bidi controls"
  fi
  local longest
  longest=$(awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }' "$file")
  [ "$longest" -le 9000 ] || fail "$what has a line of $longest bytes"
  ! grep -qE '^(hint: curl|[0-9-]+ [0-9:.]+ [a-z]+ \[[0-9]+\] hint: curl)' "$file" \
    || fail "$what has a line forged by CA text: $(grep -E 'hint: curl' "$file" | head -1)"
}

hostile_refused() {
  local scenario=$1 pattern=$2 mode=${3:-renew}
  log "scenario $scenario ($mode)"
  echo "$scenario" >"$H/scenario"
  : >"$H/events"
  local args=(--server "$HOSTILE_URL" --non-interactive --webroot -w "$WWW")
  case "$mode" in
    renew) args=(certonly "${args[@]}" --agree-tos --register-unsafely-without-email
                 --cert-name a.test -d a.test -d b.test --force-renewal) ;;
    new) args=(certonly "${args[@]}" --agree-tos --register-unsafely-without-email
               -d c.test -d d.test) ;;
    timer) args=(renew --force-renewal --no-random-sleep-on-renew) ;;
    fresh) args=(certonly "${args[@]}" --register-unsafely-without-email -d c.test) ;;
    *) fail "unknown mode $mode" ;;
  esac
  local rc=0 start end
  start=$(date +%s)
  local config="$H/etc"
  if [ "$mode" = fresh ]; then config="$H/etc-fresh"; rm -rf "$config"; fi
  timeout -k 5 $((HOSTILE_BOUND + 30)) "$ACMED_BIN" --config-dir "$config" --work-dir "$H/work" \
    --logs-dir "$H/logs" "${args[@]}" "${HOSTILE_EXTRA_ARGS[@]}" \
    >"$H/run.out" 2>"$H/run.err" || rc=$?
  end=$(date +%s)
  HOSTILE_EXTRA_ARGS=()
  cat "$H/run.err" >&2
  [ "$rc" -ne 0 ] || fail "$scenario: acmed exited 0"
  [ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] || fail "$scenario: acmed did not finish (timeout)"
  [ "$rc" -lt 128 ] || fail "$scenario: acmed died of signal $((rc - 128))"
  [ $((end - start)) -le "$HOSTILE_BOUND" ] \
    || fail "$scenario: took $((end - start)) s (bound $HOSTILE_BOUND s)"
  check_escaped "$H/run.err" "stderr"
  check_escaped "$H/run.out" "stdout"
  [ ! -f "$H/logs/letsencrypt.log" ] || check_escaped "$H/logs/letsencrypt.log" "the log"
  # One error line says what happened; at most one hint follows it. `acmed renew` says it twice
  # by design: as it happens ("a.test: renewal failed: ...") and in the summary, where the line
  # "  failed: a.test: ..." must hold it exactly once.
  grep -Eq -- "$pattern" "$H/run.err" || fail "$scenario: stderr does not match /$pattern/"
  local counted=$pattern
  [ "$mode" != timer ] || counted="^  failed: a\.test: .*($pattern)"
  [ "$(grep -cE -- "$counted" "$H/run.err")" -eq 1 ] || fail "$scenario: /$counted/ not on exactly one line"
  [ "$(grep -c '^hint:' "$H/run.err")" -le 1 ] || fail "$scenario: more than one hint line"
  [ "$(_outside_digest)" = "$OUTSIDE_DIGEST" ] || { find "$H" -newer "$H/scenario" -not -path "$H/etc/*" -not -path "$H/logs/*" -not -path "$H/work/*" | sed -n 1,10p; fail "$scenario: something was written outside the acmed dirs"; }
  [ -z "$(ls -A "$OUTSIDE")" ] || fail "$scenario: files appeared in $OUTSIDE: $(ls -A "$OUTSIDE")"
  [ "$(_lineage_digest)" = "$LINEAGE_DIGEST" ] || fail "$scenario: the lineage a.test changed"
  for d in live archive; do
    for n in c.test d.test evil.example; do
      [ ! -e "$H/etc/$d/$n" ] || [ -L "$H/etc/$d/$n" ] || fail "$scenario: $d/$n was created"
    done
  done
  [ ! -e "$H/etc/renewal/c.test.conf" ] || fail "$scenario: renewal/c.test.conf was created"
  # No process left: nothing but the server (and this shell) mentions this test's directory.
  local pid
  for pid in $(pgrep -f -- "$H/" || true); do
    [ "$pid" != "$HOSTILE_PID" ] && [ -d "/proc/$pid" ] || continue
    case "$(cat "/proc/$pid/comm" 2>/dev/null)" in
      bash | pgrep | "") ;;
      *) fail "$scenario: process $pid ($(cat "/proc/$pid/comm")) is still running" ;;
    esac
  done
  return 0
}

no_event() {
  ! grep -Eq -- "$1" "$H/events" || fail "the server received $(grep -E -- "$1" "$H/events" | head -1)"
}
