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
# ha_objects NS: what Flink's Kubernetes HA needs of the cluster in NS, as a
# user of the upstream operator's Helm chart keeps it in git: the
# ServiceAccount flink, whose Role flink-ha covers ConfigMaps
ha_objects() {
	cat <<EOF
apiVersion: v1
kind: ServiceAccount
metadata: {name: flink, namespace: $1}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: flink-ha, namespace: $1}
rules:
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get, list, watch, create, update, patch, delete]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: flink-ha, namespace: $1}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: flink-ha}
subjects: [{kind: ServiceAccount, name: flink}]
EOF
}
