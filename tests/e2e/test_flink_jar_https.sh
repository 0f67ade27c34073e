#!/usr/bin/env bash
# rig: git
# Jar delivery over https:// against a real TLS server: the rig's lighttpd
# (the git part, certificate from the rig's test CA) also serves static files
# from its document root without authentication. A jar placed there is
# fetched with the CA given, lands on the same cache file the second time
# (lighttpd sends no ETag, so the content's hash names the version), is
# refused without the CA, and a missing file is a clear 404.
set -u
: "${FLINKOPS:?}" "${RIG_GIT_CA:?}" "${RIG_GIT_HTTPS_URL:?}" "${FLINKOPS_RIG_HOME:?}"
tmp=$(mktemp -d)
htdocs=$FLINKOPS_RIG_HOME/data/git/https/htdocs
name=e2e-jar-$$.jar
trap 'rm -rf "$tmp" "$htdocs/$name"' EXIT
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; }
val() { sed -n "s/^$1 //p" "$2"; }

if [ ! -d "$htdocs" ]; then
	fail "the rig's https document root $htdocs is missing (did tests/rig/parts/git.sh change?)"
	exit 1
fi
# a small but real zip archive
printf 'PK\003\004' >"$tmp/job.jar"
head -c 20000 /dev/urandom >>"$tmp/job.jar"
cp "$tmp/job.jar" "$htdocs/$name"
base=${RIG_GIT_HTTPS_URL%/git/}
url=$base/$name

"$FLINKOPS" flink fetch-jar "$url" --cache "$tmp/cache" --ca-file "$RIG_GIT_CA" >"$tmp/f1" 2>"$tmp/err"
if [ $? = 0 ] && [ "$(val cached "$tmp/f1")" = no ] && cmp -s "$(val path "$tmp/f1")" "$tmp/job.jar"; then
	ok "https:// jar fetched with the configured CA (version $(val version "$tmp/f1"))"
else
	fail "https fetch: $(cat "$tmp/err") $(cat "$tmp/f1")"
fi
"$FLINKOPS" flink fetch-jar "$url" --cache "$tmp/cache" --ca-file "$RIG_GIT_CA" >"$tmp/f2" 2>"$tmp/err"
# This lighttpd sends neither ETag nor Last-Modified: with nothing to compare,
# the jar is downloaded again and named by its content, so the path is stable.
if [ $? = 0 ] && [ "$(val path "$tmp/f2")" = "$(val path "$tmp/f1")" ] && [[ $(val version "$tmp/f2") == sha256:* ]] &&
	[ "$(find "$tmp/cache" -type f | wc -l)" = 1 ]; then
	ok "a server without an ETag: the jar is named by its SHA-256, the second fetch lands on the same file"
else
	fail "second https fetch: $(cat "$tmp/err") $(cat "$tmp/f2")"
fi
"$FLINKOPS" flink fetch-jar "$url" --cache "$tmp/cache-b" >/dev/null 2>"$tmp/err"
[ $? = 1 ] && grep -qi 'certificate' "$tmp/err" && ok "without the CA the server is not trusted: $(cat "$tmp/err")" ||
	fail "no CA: $(cat "$tmp/err")"
"$FLINKOPS" flink fetch-jar "$base/no-such-$$.jar" --cache "$tmp/cache" --ca-file "$RIG_GIT_CA" >/dev/null 2>"$tmp/err"
[ $? = 1 ] && grep -q 'HTTP 404' "$tmp/err" && ok "a missing file: $(cat "$tmp/err")" || fail "missing: $(cat "$tmp/err")"
