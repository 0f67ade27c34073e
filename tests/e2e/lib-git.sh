# Sourced by the e2e tests that push to a repository the agent also pushes
# to (lib-rollout.sh sources it). Uses $tmp/work, a clone of the repository.
# git_work NAME: a new repository NAME on the rig's git server (sets repo),
# cloned to $tmp/work with a jobs folder
git_work() {
	repo=$("$RIG_GIT_NEW_REPO" --force "$1")
	git clone -q "$repo" "$tmp/work" 2>/dev/null
	git -C "$tmp/work" config user.email t@example.com
	git -C "$tmp/work" config user.name t
	mkdir -p "$tmp/work/jobs"
}
# publish MESSAGE: commit everything in the work tree on top of what the
# agent pushed (its status commits), push it, print the commit
publish() {
	git -C "$tmp/work" add -A
	git -C "$tmp/work" commit -qm "$1"
	# a running agent's status push can land between the pull and the push
	for _ in 1 2 3 4 5; do
		git -C "$tmp/work" pull -q --rebase origin main 2>/dev/null
		git -C "$tmp/work" push -q origin HEAD:main 2>/dev/null && break
		sleep 0.2
	done
	git -C "$tmp/work" rev-parse HEAD
}
