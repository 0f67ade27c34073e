# Sourced by every runner that may run a sanitizer build (tests/run-unit,
# tests/cli/run, tests/e2e/run, tests/fuzz/run).
#
# By default an ASan, UBSan or LSan report ends the process with exit 1 —
# flinkops' own failure code, which many tests expect — so a report in a
# path that is meant to fail would pass as an expected failure. Here every
# sanitizer exits with a code of its own, FO_SAN_EXIT (no flinkops path
# exits 86: its codes are 0, 1, 2, 3, 124 and 128+signal), and san_reports
# finds a report in a log whatever the exit code was (a process whose exit
# code nobody checks, a spawned worker, an agent killed at the end).
FO_SAN_EXIT=86
# appended: the last setting of a flag wins, so a caller's options stay but
# for the exit code
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=$FO_SAN_EXIT"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}halt_on_error=1:print_stacktrace=1:exitcode=$FO_SAN_EXIT"
# (a leak in a library that flinkops cannot fix is suppressed, with its reason, in lsan.supp)
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}exitcode=$FO_SAN_EXIT:suppressions=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lsan.supp"
# what a report of each sanitizer holds (UBSan: "file.c:12:5: runtime error: ...")
SAN_REPORT_RE='ERROR: (AddressSanitizer|LeakSanitizer)|SUMMARY: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer)|: runtime error: '

# san_reports FILE...: the files that hold a sanitizer report, one a line
# (none: exit status 1)
san_reports() { grep -lE -- "$SAN_REPORT_RE" "$@" 2>/dev/null; }

# san_excerpt FILE: the report's first lines, for a FAIL message
san_excerpt() { grep -m 3 -E -- "$SAN_REPORT_RE" "$1" | cut -c 1-200; }
