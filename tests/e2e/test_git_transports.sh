#!/usr/bin/env bash
# rig: git
# sync/ against the rig's real git servers: clone and incremental fetch over
# HTTPS (password from a file, the rig's CA), SSH (key, known_hosts), git://
# and file://; a wrong password and an unknown or changed host key give a
# clear error and leave the cache as it was; a force push is reported and
# the next pass reads the new tip; a status push that races a real
# concurrent push keeps both commits, rebuilt on top, without force.
# Uses the hidden verb `flinkops git` (agent/cmd_git.c).
set -u
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
export GIT_CONFIG_NOSYSTEM=1 HOME=$t/home GIT_TERMINAL_PROMPT=0
mkdir -p "$HOME"
git config --global user.name "e2e" && git config --global user.email "e2e@flinkops.invalid"
git config --global init.defaultBranch main
failed=0
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; failed=1; }

repo=e2e-transports
"$RIG_GIT_NEW_REPO" --force "$repo" >/dev/null
https="${RIG_GIT_HTTPS_URL}$repo.git"
ssh="${RIG_GIT_SSH_URL}$repo.git"
daemon="${RIG_GIT_DAEMON_URL}$repo.git"
file="file://$RIG_GIT_ROOT/$repo.git"
https_auth=(--username "$RIG_GIT_HTTPS_USER" --password-file "$RIG_GIT_HTTPS_PASSWORD_FILE" --ca-file "$RIG_GIT_CA")
ssh_auth=(--ssh-key "$RIG_GIT_SSH_KEY" --known-hosts "$RIG_GIT_KNOWN_HOSTS")

fd() { printf 'apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\nmetadata: {name: %s}\nspec: {}\n' "$1"; }

git clone -q "$RIG_GIT_ROOT/$repo.git" "$t/w" 2>/dev/null
mkdir -p "$t/w/jobs" "$t/w/status"
fd a >"$t/w/jobs/a.yaml"
fd b >"$t/w/jobs/b.yaml"
echo "phase: Running" >"$t/w/status/x.yaml"
git -C "$t/w" add -A && git -C "$t/w" commit -qm one && git -C "$t/w" push -q origin HEAD:main
c1=$(git -C "$t/w" rev-parse HEAD)

# fetch URL ARGS...: run `flinkops git fetch` with a cache per transport
fetch() {
	local name=$1
	shift
	"$FLINKOPS" git fetch --cache "$t/cache-$name" "$@" >"$t/out" 2>"$t/err"
}
cache_tip() { git --git-dir="$(ls -d "$t/cache-$1"/*.git)" rev-parse refs/remotes/origin/main 2>/dev/null; }

# 1. every transport clones, then fetches incrementally
for tr in https ssh daemon file; do
	case $tr in
	https) args=(--repo "$https" "${https_auth[@]}") ;;
	ssh) args=(--repo "$ssh" "${ssh_auth[@]}") ;;
	daemon) args=(--repo "$daemon") ;;
	file) args=(--repo "$file") ;;
	esac
	if fetch "$tr" "${args[@]}" --manifests && grep -q "^commit $c1" "$t/out" && grep -q "^manifests 2$" "$t/out"; then
		ok "$tr: clone reads commit ${c1:0:7} and its 2 manifests (status folder skipped)"
	else
		fail "$tr: clone: $(cat "$t/out" "$t/err")"
	fi
done
fd c >"$t/w/jobs/c.yaml"
git -C "$t/w" add -A && git -C "$t/w" commit -qm two && git -C "$t/w" push -q origin HEAD:main
c2=$(git -C "$t/w" rev-parse HEAD)
for tr in https ssh daemon file; do
	case $tr in
	https) args=(--repo "$https" "${https_auth[@]}") ;;
	ssh) args=(--repo "$ssh" "${ssh_auth[@]}") ;;
	daemon) args=(--repo "$daemon") ;;
	file) args=(--repo "$file") ;;
	esac
	if fetch "$tr" "${args[@]}" --since "$c1" && grep -q "^commit $c2" "$t/out" &&
		grep -q "^rewritten no$" "$t/out" && grep -q "^A jobs/c.yaml$" "$t/out" && [ "$(grep -c '^[AMD] ' "$t/out")" = 1 ]; then
		ok "$tr: incremental fetch sees ${c2:0:7} and exactly the added jobs/c.yaml"
	else
		fail "$tr: incremental fetch: $(cat "$t/out" "$t/err")"
	fi
done

# 2. a wrong password: a clear error, the cache kept
fd d >"$t/w/jobs/d.yaml"
git -C "$t/w" add -A && git -C "$t/w" commit -qm three && git -C "$t/w" push -q origin HEAD:main
echo "wrong-password" >"$t/bad-password"
chmod 600 "$t/bad-password"
if fetch https --repo "$https" --username "$RIG_GIT_HTTPS_USER" --password-file "$t/bad-password" --ca-file "$RIG_GIT_CA"; then
	fail "a wrong password was accepted"
elif grep -q "authentication failed for $https" "$t/err" && grep -q "check the password file" "$t/err" &&
	! grep -q "wrong-password" "$t/err" && [ "$(cache_tip https)" = "$c2" ]; then
	ok "wrong password: \"$(head -c 90 "$t/err")...\", cache still at ${c2:0:7}"
else
	fail "wrong password: $(cat "$t/err"), cache at $(cache_tip https)"
fi
if fetch https --repo "$https" --username "$RIG_GIT_HTTPS_USER" --password-file "$RIG_GIT_HTTPS_PASSWORD_FILE"; then
	fail "the server certificate was trusted without the rig's CA"
elif grep -q "certificate" "$t/err" && grep -q "CA file" "$t/err"; then
	ok "untrusted server certificate: refused, the message names the CA file option"
else
	fail "untrusted certificate: $(cat "$t/err")"
fi

# 3. unknown and changed host keys: refused, cache kept; unknown allowed only when asked
if fetch ssh --repo "$ssh" --ssh-key "$RIG_GIT_SSH_KEY" --known-hosts "$t/bad-password"; then
	fail "an unknown host key was accepted"
elif grep -q "is unknown" "$t/err" && grep -q "\[127.0.0.1\]:" "$t/err" && [ "$(cache_tip ssh)" = "$c2" ]; then
	ok "unknown host key: refused with its fingerprint, cache still at ${c2:0:7}"
else
	fail "unknown host key: $(cat "$t/err")"
fi
if fetch ssh --repo "$ssh" --ssh-key "$RIG_GIT_SSH_KEY" --known-hosts "$RIG_GIT_KNOWN_HOSTS_WRONG" --accept-unknown-host-key; then
	fail "a changed host key was accepted"
elif grep -q "CHANGED" "$t/err" && [ "$(cache_tip ssh)" = "$c2" ]; then
	ok "changed host key: refused even with --accept-unknown-host-key, cache kept"
else
	fail "changed host key: $(cat "$t/err")"
fi
if fetch ssh --repo "$ssh" --ssh-key "$RIG_GIT_SSH_KEY" --known-hosts /dev/null --accept-unknown-host-key &&
	grep -q "^commit $(git -C "$t/w" rev-parse HEAD)" "$t/out"; then
	ok "unknown host key accepted when explicitly allowed"
else
	fail "--accept-unknown-host-key: $(cat "$t/err")"
fi

# 4. a force push: reported as rewritten, the next read is the new tip
c3=$(git -C "$t/w" rev-parse HEAD)
fetch daemon --repo "$daemon" >/dev/null
git -C "$t/w" reset -q --hard "$c1"
fd e >"$t/w/jobs/e.yaml"
git -C "$t/w" add -A && git -C "$t/w" commit -qm rewritten && git -C "$t/w" push -q -f origin HEAD:main
c4=$(git -C "$t/w" rev-parse HEAD)
if fetch daemon --repo "$daemon" --since "$c3" --manifests && grep -q "^commit $c4" "$t/out" &&
	grep -q "^rewritten yes" "$t/out" && grep -q "^D jobs/c.yaml" "$t/out" && grep -q "^A jobs/e.yaml" "$t/out" &&
	grep -q "^manifests 3$" "$t/out"; then
	ok "force push: reported as rewritten; new tip ${c4:0:7} read (c, d gone, e added)"
else
	fail "force push: $(cat "$t/out" "$t/err")"
fi

# 5. a status push racing a real concurrent push (over HTTPS, as the agent does)
git clone -q "$RIG_GIT_ROOT/$repo.git" "$t/other" 2>/dev/null
# the server notes every update of a branch from here on, and whether it was
# a fast-forward: a forced update would replace someone else's commit
pushlog=$RIG_GIT_ROOT/$repo.git/e2e-updates
: >"$pushlog"
cat >"$RIG_GIT_ROOT/$repo.git/hooks/update" <<EOF
#!/bin/sh
if [ "\$2" = 0000000000000000000000000000000000000000 ] || "$(command -v git)" merge-base --is-ancestor "\$2" "\$3"; then
	echo "fast-forward \$1 \$2 \$3" >>"$pushlog"
else
	echo "forced \$1 \$2 \$3" >>"$pushlog"
fi
EOF
chmod +x "$RIG_GIT_ROOT/$repo.git/hooks/update"
cat >"$t/hook" <<EOF
#!/bin/sh
[ "\$FLINKOPS_PUSH_ATTEMPT" = 1 ] || exit 0
cd "$t/other" && git pull -q --ff-only && echo "concurrent" >README && git add README &&
	git commit -qm "concurrent change" && git push -q origin HEAD:main
EOF
chmod +x "$t/hook"
printf 'phase: Running\n' >"$t/status.yaml"
if "$FLINKOPS" git push-status --repo "$https" --cache "$t/cache-https" "${https_auth[@]}" \
	--put "status/default/a.yaml=$t/status.yaml" -m "status: a Running at ${c4:0:7}" \
	--before-push "$t/hook" >"$t/out" 2>"$t/err"; then
	log=$(git --git-dir="$RIG_GIT_ROOT/$repo.git" log --format=%s -3 main | tr '\n' '|')
	parent=$(git --git-dir="$RIG_GIT_ROOT/$repo.git" log --format=%s -1 'main^')
	forced=$(grep -c '^forced ' "$pushlog")
	ffs=$(grep -c '^fast-forward refs/heads/main ' "$pushlog")
	if grep -q "^attempts 2$" "$t/out" && [ "$log" = "status: a Running at ${c4:0:7}|concurrent change|rewritten|" ] &&
		[ "$parent" = "concurrent change" ] && grep -q "rejected" "$t/err" && [ "$forced" = 0 ] && [ "$ffs" = 2 ]; then
		ok "status push raced by a concurrent push: rejected once, rebuilt on top, both commits kept; the server saw 2 fast-forwards, no forced update"
	else
		fail "status push race: log '$log' parent '$parent' forced updates $forced, fast-forwards $ffs ($(tr '\n' ';' <"$pushlog")): $(cat "$t/out" "$t/err")"
	fi
else
	fail "status push race: $(cat "$t/out" "$t/err")"
fi
if "$FLINKOPS" git push-status --repo "$ssh" --cache "$t/cache-ssh" "${ssh_auth[@]}" \
	--put "status/default/a.yaml=$t/status.yaml" -m "status: unchanged" >"$t/out" 2>"$t/err" &&
	grep -q "^commit $" "$t/out"; then
	ok "status push with unchanged content makes no commit (over SSH)"
else
	fail "unchanged status: $(cat "$t/out" "$t/err")"
fi

# 6. a server that accepts and stays silent: bounded by --git-timeout
port=29977
python3 -c "
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $port)); s.listen(5); c = s.accept(); time.sleep(20)" &
silent=$!
sleep 0.5
start=$(date +%s)
fetch silent --repo "git://127.0.0.1:$port/x.git" --git-timeout 2s &
fpid=$!
sleep 1
# the worker that hangs on the silent server is flinkops started afresh, not a fork of the caller
descendants() { local c; for c in $(pgrep -P "$1"); do echo "$c"; descendants "$c"; done; }
worker= wcmd=
for p in $(descendants "$fpid"); do
	c=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null || true)
	case "$c" in *" git fetch "*) fetcher=$c ;; *--sync-worker*) worker=$p wcmd=$c ;; esac
done
# a forked worker would show the caller's command line; a spawned one shows only its own argument
if [ -n "$worker" ] && [ "$wcmd" = "$(readlink -f /proc/"$worker"/exe) --sync-worker " ] && [ -n "${fetcher:-}" ]; then
	ok "the fetch runs in a spawned worker: $wcmd"
else
	fail "no spawned git worker under the fetch (child ${worker:-none}: $wcmd)"
fi
if wait "$fpid"; then
	fail "a silent server did not fail"
elif [ $(($(date +%s) - start)) -le 8 ] && grep -q "no answer within 2 s" "$t/err"; then
	ok "a silent server: failed after the timeout ($(($(date +%s) - start)) s)"
else
	fail "silent server: $(cat "$t/err")"
fi
kill $silent 2>/dev/null
wait $silent 2>/dev/null
# the repository and the caches were reached with the password and the key:
# the secrets scan reads them before they go
. "$(dirname "$0")/lib-keep.sh"
keep_for_scan "$RIG_GIT_ROOT/$repo.git" "$repo.git"
for c in "$t"/cache-*; do keep_for_scan "$c" "transports-$(basename "$c")"; done
rm -rf "${RIG_GIT_ROOT:?}/$repo.git"
exit $failed
