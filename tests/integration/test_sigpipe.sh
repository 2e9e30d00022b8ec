#!/usr/bin/env bash
# acmed ignores SIGPIPE (issue 10, section 5): a write to a connection or pipe whose reader is
# gone is an error acmed handles, never the signal that kills it. Run acmed with SIGPIPE at its
# default disposition and stdout a pipe without a reader: it must not die of SIGPIPE.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

command -v perl >/dev/null || fail "perl is missing (perl-base is part of every Debian system)"

run_with_closed_stdout() {
  perl -e '$SIG{PIPE} = "DEFAULT"; pipe(my $r, my $w) or die; close($r);
           open(STDOUT, ">&", $w) or die; exec(@ARGV) or die' "$@"
}

log "the test itself can see a SIGPIPE death (a program that does not ignore it)"
set +e
run_with_closed_stdout /bin/sh -c 'echo hello'
sh_status=$?
set -e
[ "$sh_status" -eq 141 ] || fail "expected sh to die of SIGPIPE (141), got $sh_status"

log "acmed writes its help to a pipe nobody reads and survives"
for args in "--help" "--version"; do
  set +e
  run_with_closed_stdout "$ACMED_BIN" $args 2>"$TEST_DIR/err"
  status=$?
  set -e
  [ "$status" -ne 141 ] || fail "acmed $args was killed by SIGPIPE"
  [ "$status" -lt 128 ] || fail "acmed $args died of a signal (status $status)"
done
log "ok"
