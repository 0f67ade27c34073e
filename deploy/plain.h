/*
 * The plain objects of a repository (ServiceAccounts, Roles, RoleBindings;
 * flink/plain.c checks them) beside its FlinkDeployments: applied before
 * the FlinkDeployments (their pods run as the ServiceAccount), and pruned —
 * labelled ours and gone from git — after them, under the same guards as a
 * FlinkDeployment's prune. Which object is created, updated, kept or
 * deleted, and whether deleting is refused, is one pure decision
 * (deploy_plain_decide); listing, applying and deleting are thin around it.
 */
#ifndef DEPLOY_PLAIN_H
#define DEPLOY_PLAIN_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "flink/flink.h"
#include "k8s/k8s.h"
#include "lib/err.h"

/* One object of ours in the cluster, as listed. */
typedef struct deploy_plain_live_obj {
	const k8s_kind *kind;
	char *ns, *name;
	cJSON *obj; /* as listed (owned) */
} deploy_plain_live_obj;

typedef struct deploy_plain_live {
	deploy_plain_live_obj *v;
	size_t n, cap;
} deploy_plain_live;

/* What may stop a delete; each as a FlinkDeployment's prune has it. */
typedef struct deploy_plain_guard {
	bool prune;                /* prune.enabled */
	double max_delete_ratio;   /* refuse deleting more than this share of our live objects */
	bool force_prune;          /* override the ratio */
	const char *skip_reason;   /* problems in the manifests: nothing is deleted (NULL: none) */
	const char *refused_reason;/* the FlinkDeployments' prune was refused or the pass aborted:
	                            * nothing is deleted either (NULL: neither) */
	/* namespaces where a FlinkDeployment gone from git is still being
	 * deleted: their objects stay until it is gone (its pods may still run
	 * as a ServiceAccount here) */
	const char *const *held_ns;
	size_t nheld;
} deploy_plain_guard;

enum deploy_plain_op {
	DEPLOY_PLAIN_KEEP,     /* the live object is what git says */
	DEPLOY_PLAIN_CREATE,   /* not in the cluster */
	DEPLOY_PLAIN_UPDATE,   /* changed in git, or edited in the cluster */
	DEPLOY_PLAIN_DELETE,   /* ours, gone from git */
};

typedef struct deploy_plain_action {
	enum deploy_plain_op op;
	const k8s_kind *kind;
	char *ns, *name;
	const flink_plain *want;   /* git's (NULL for a delete) */
	char *why;                 /* UPDATE: what differs; DELETE not done: why it waits or is refused */
	bool refused;              /* DELETE: not done (refused, disabled or held) */
	bool done;                 /* confirmed by the server */
	char *error;
} deploy_plain_action;

typedef struct deploy_plain_plan {
	deploy_plain_action *v;
	size_t n, cap;
	bool prune_refused;        /* a guard stopped every delete */
	bool prune_disabled;       /* prune.enabled is false */
	char *prune_reason;
} deploy_plain_plan;

/* The kind descriptor of a plain kind's name, or NULL. */
const k8s_kind *deploy_plain_kind(const char *kind);
/*
 * The object applied for `p`: git's, with the labels every object flinkops
 * applies carries (managed-by flinkops, flinkops.io/agent `agent`) and its
 * content hash (flink_plain_hash) as an annotation. Caller deletes it.
 */
cJSON *deploy_plain_object(const flink_plain *p, const char *agent);
/*
 * Decide, for the plain objects of git (`desired`) and ours in the cluster
 * (`live`): each desired one is created, updated (its hash annotation is not
 * git's, or a field it sets differs) or kept; each live one that git no
 * longer has is deleted — unless prune is disabled, a guard refuses (then
 * no delete happens at all: manifest problems, the FlinkDeployments' prune
 * refused, or more than max_delete_ratio of the live ones at once), or its
 * namespace is held. Pure.
 */
void deploy_plain_decide(const flink_plains *desired, const deploy_plain_live *live, const char *agent,
			 const deploy_plain_guard *g, deploy_plain_plan *out);
/* LIST our ServiceAccounts, Roles and RoleBindings (labelled managed-by
 * flinkops and the agent's label) in each of the `n` namespaces (all
 * namespaces when n is 0). */
int deploy_plain_list(k8s_client *c, const char *agent, char *const *namespaces, size_t n, deploy_plain_live *out,
		      fo_err *e);
/* Server-side apply of every CREATE and UPDATE, ServiceAccounts first, then
 * Roles, then RoleBindings (a binding's Role exists when it is bound).
 * Returns 0, or the first error (every action's own is in its error). */
int deploy_plain_apply(k8s_client *c, deploy_plain_plan *p, const char *agent, fo_err *e);
/* Delete every DELETE that is not refused, RoleBindings first. */
int deploy_plain_prune(k8s_client *c, deploy_plain_plan *p, fo_err *e);
/* "create", "update", "keep", "delete". */
const char *deploy_plain_op_name(enum deploy_plain_op op);
void deploy_plain_live_free(deploy_plain_live *l);
void deploy_plain_plan_free(deploy_plain_plan *p);

#endif
