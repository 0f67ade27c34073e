/*
 * Configuration loading. One table lists every field with its path, type
 * and default; the file, the environment and the defaults are all applied
 * through it, so a new field is one line and its environment variable and
 * documentation follow from the path.
 */
#include "config/config.h"

#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "flink/flink.h"
#include "lib/buf.h"
#include "lib/duration.h"
#include "lib/fs.h"
#include "lib/url.h"
#include "lib/yaml.h"

enum ftype { F_STR, F_URL, F_BOOL, F_DURATION, F_RATIO, F_INT, F_NAMES, F_SIZE };

typedef struct field {
	const char *path;
	enum ftype type;
	size_t offset;
	const char *def;
} field;

#define OFF(m) offsetof(config, m)

static const field fields[] = {
	{"repository.url", F_URL, OFF(repository.url), NULL},
	{"repository.branch", F_STR, OFF(repository.branch), "main"},
	{"repository.path", F_STR, OFF(repository.path), ""},
	{"repository.glob", F_STR, OFF(repository.glob), "*.yaml"},
	{"repository.interval", F_DURATION, OFF(repository.interval_ms), "1m"},
	{"repository.cacheDir", F_STR, OFF(repository.cache_dir), "/var/cache/flinkops"},
	{"repository.username", F_STR, OFF(repository.username), NULL},
	{"repository.passwordFile", F_STR, OFF(repository.password_file), NULL},
	{"repository.caFile", F_STR, OFF(repository.ca_file), NULL},
	{"repository.sshKeyFile", F_STR, OFF(repository.ssh_key_file), NULL},
	{"repository.knownHostsFile", F_STR, OFF(repository.known_hosts_file), NULL},
	{"repository.acceptUnknownHostKey", F_BOOL, OFF(repository.accept_unknown_host_key), "false"},
	{"repository.timeout", F_DURATION, OFF(repository.timeout_ms), "60s"},
	{"status.enabled", F_BOOL, OFF(status.enabled), "true"},
	{"status.branch", F_STR, OFF(status.branch), NULL},
	{"status.folder", F_STR, OFF(status.folder), "status"},
	{"status.authorName", F_STR, OFF(status.author_name), "flinkops"},
	{"status.authorEmail", F_STR, OFF(status.author_email), "flinkops@localhost"},
	{"kubernetes.inCluster", F_BOOL, OFF(kubernetes.in_cluster), "false"},
	{"kubernetes.kubeconfig", F_STR, OFF(kubernetes.kubeconfig), NULL},
	{"kubernetes.context", F_STR, OFF(kubernetes.context), NULL},
	{"kubernetes.fieldManager", F_STR, OFF(kubernetes.field_manager), "flinkops"},
	{"kubernetes.forceConflicts", F_BOOL, OFF(kubernetes.force_conflicts), "true"},
	{"kubernetes.timeout", F_DURATION, OFF(kubernetes.timeout_ms), "30s"},
	{"kubernetes.namespace", F_STR, OFF(kubernetes.namespace), "default"},
	{"kubernetes.concurrency", F_INT, OFF(kubernetes.concurrency), "4"},
	{"kubernetes.namespaces", F_NAMES, OFF(kubernetes.namespaces), NULL},
	{"flink.submitJobs", F_BOOL, OFF(flink.submit_jobs), "true"},
	{"flink.restUrl", F_URL, OFF(flink.rest_url), "http://{name}-rest.{namespace}.svc:8081"},
	{"flink.jarCacheDir", F_STR, OFF(flink.jar_cache_dir), "/var/cache/flinkops/jars"},
	{"flink.jarCacheMaxSize", F_SIZE, OFF(flink.jar_cache_max_bytes), "1g"},
	{"flink.s3Endpoint", F_URL, OFF(flink.s3_endpoint), NULL},
	{"flink.s3Region", F_STR, OFF(flink.s3_region), NULL},
	{"flink.s3AccessKeyFile", F_STR, OFF(flink.s3_access_key_file), NULL},
	{"flink.s3SecretKeyFile", F_STR, OFF(flink.s3_secret_key_file), NULL},
	{"flink.caFile", F_STR, OFF(flink.ca_file), NULL},
	{"flink.savepointTimeout", F_DURATION, OFF(flink.savepoint_timeout_ms), "10m"},
	{"flink.restartBudget", F_INT, OFF(flink.restart_budget), "3"},
	{"flink.readyTimeout", F_DURATION, OFF(flink.ready_timeout_ms), "5m"},
	{"flink.runningTimeout", F_DURATION, OFF(flink.running_timeout_ms), "5m"},
	{"flink.rollback", F_STR, OFF(flink.rollback), "auto"},
	{"prune.enabled", F_BOOL, OFF(prune.enabled), "true"},
	{"prune.maxDeleteRatio", F_RATIO, OFF(prune.max_delete_ratio), "0.5"},
	{"agent.name", F_STR, OFF(agent.name), "flinkops"},
	{"agent.listen", F_STR, OFF(agent.listen), ":8080"},
	{"agent.webhookSecretFile", F_STR, OFF(agent.webhook_secret_file), NULL},
	{"agent.retryInitial", F_DURATION, OFF(agent.retry_initial_ms), "5s"},
	{"agent.retryMax", F_DURATION, OFF(agent.retry_max_ms), "5m"},
	/* no default: the port after agent.listen's (agent_probe_listen_default) */
	{"agent.probeListen", F_STR, OFF(agent.probe_listen), NULL},
	{"agent.maxConnectionsPerClient", F_INT, OFF(agent.max_connections_per_client), "8"},
	{"agent.requestTimeout", F_DURATION, OFF(agent.request_timeout_ms), "30s"},
	{"agent.tls.certFile", F_STR, OFF(agent.tls.cert_file), NULL},
	{"agent.tls.keyFile", F_STR, OFF(agent.tls.key_file), NULL},
	/* no default: it follows kubernetes.inCluster unless set */
	{"agent.leaderElection.enabled", F_BOOL, OFF(agent.leader_election.enabled), NULL},
	{"agent.leaderElection.leaseName", F_STR, OFF(agent.leader_election.lease_name), NULL},
	{"agent.leaderElection.namespace", F_STR, OFF(agent.leader_election.namespace), NULL},
	{"agent.leaderElection.identity", F_STR, OFF(agent.leader_election.identity), NULL},
	{"agent.leaderElection.leaseDuration", F_DURATION, OFF(agent.leader_election.lease_duration_ms), "15s"},
	{"agent.leaderElection.renewDeadline", F_DURATION, OFF(agent.leader_election.renew_deadline_ms), "10s"},
	{"agent.leaderElection.retryPeriod", F_DURATION, OFF(agent.leader_election.retry_period_ms), "2s"},
};

/* Where each field was set (file position, or the environment), so that a
 * check across fields can point at the value to change. */
typedef struct where {
	bool set;
	int line, col; /* 0: from the environment */
	const char *origin; /* "FLINKOPS_X overrides " or "" */
} where;

static size_t field_index(const field *f)
{
	return (size_t)(f - fields);
}

/* What to do instead of writing credentials into a URL setting: a password
 * in a URL shows wherever the URL does. A user name alone may stay where it
 * names an account rather than a secret (ssh://git@host/...). */
static const struct url_rule {
	const char *path;
	bool user_ok;
	const char *instead;
} url_rules[] = {
	{"repository.url", true,
	 "put it in a file and name it with repository.passwordFile (and the user with repository.username)"},
	{"flink.restUrl", false, "flinkops sends no credentials to Flink's REST API: remove them"},
	{"flink.s3Endpoint", false, "name files holding the keys with flink.s3AccessKeyFile and flink.s3SecretKeyFile"},
};

/* Keys that look like secrets: refused, so nobody pastes a token into the file. */
static const char *const secret_keys[] = {"password", "token", "secret", "webhookSecret", "privateKey", NULL};

char *config_env_name(const char *path)
{
	fo_buf b = FO_BUF_INIT;
	fo_buf_puts(&b, "FLINKOPS_");
	for (const char *p = path; *p; p++) {
		if (*p == '.')
			fo_buf_putc(&b, '_');
		else if (isupper((unsigned char)*p)) {
			fo_buf_putc(&b, '_');
			fo_buf_putc(&b, *p);
		} else
			fo_buf_putc(&b, (char)toupper((unsigned char)*p));
	}
	return fo_buf_detach(&b);
}

/* Whether a URL setting is free of credentials; reported when not. The
 * value is never quoted: it holds the secret. */
static bool url_ok(const field *f, const char *value, const char *file, int line, int col, const char *origin,
		   fo_diags *d)
{
	enum fo_url_userinfo info = fo_url_userinfo(value);
	for (size_t i = 0; i < FO_ARRAY_LEN(url_rules) && info != FO_URL_NO_USERINFO; i++) {
		const struct url_rule *r = &url_rules[i];
		if (strcmp(r->path, f->path) != 0 || (info == FO_URL_USER && r->user_ok))
			continue;
		fo_diag_add(d, FO_SEV_ERROR, file, line, col, "%s%s: the URL holds %s; %s", origin, f->path,
			    info == FO_URL_PASSWORD ? "a password" : "a user name (user@)", r->instead);
		return false;
	}
	return true;
}

static void names_free(config_names *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* A DNS-1123 label: what a namespace name is. */
static bool dns_label(const char *s, size_t n)
{
	if (n == 0 || n > 63 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-'))
			return false;
	return true;
}

/* A DNS-1123 subdomain: what most object names are (a Lease's among them):
 * dot-separated labels' characters, at most 253 in all. */
static bool dns_subdomain(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 253)
		return false;
	for (const char *p = s;;) {
		size_t len = strcspn(p, ".");
		/* a part's length is bounded by the whole's, not by 63 */
		for (size_t i = 0; i < len; i++)
			if (!(islower((unsigned char)p[i]) || isdigit((unsigned char)p[i]) || p[i] == '-'))
				return false;
		if (len == 0 || p[0] == '-' || p[len - 1] == '-')
			return false;
		if (!p[len])
			return true;
		p += len + 1;
	}
}

/* "a, b,c" into a list of namespace names, each a DNS-1123 label, no repeats. */
static int set_names(config_names *l, const char *value, const field *f, const char *file, int line, int col,
		     const char *origin, fo_diags *d)
{
	config_names nl = {0};
	const char *p = value;
	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		if (!*p)
			break;
		size_t len = strcspn(p, ", ");
		if (!dns_label(p, len)) {
			fo_diag_add(d, FO_SEV_ERROR, file, line, col,
				    "%s%s: \"%.*s\" is not a namespace name (lower-case letters, digits and '-', at most 63)",
				    origin, f->path, (int)(len > 80 ? 80 : len), p);
			names_free(&nl);
			return FO_EINVAL;
		}
		bool dup = false;
		for (size_t i = 0; i < nl.n; i++)
			dup = dup || (strlen(nl.v[i]) == len && strncmp(nl.v[i], p, len) == 0);
		if (!dup) {
			nl.v = fo_realloc(nl.v, (nl.n + 1) * sizeof(*nl.v));
			nl.v[nl.n++] = fo_strndup(p, len);
		}
		p += len;
	}
	names_free(l);
	*l = nl;
	return 0;
}

/* Set a field from text; `where` is a diagnostic position or NULL for env. */
static int set_field(config *c, const field *f, const char *value, const char *file, int line, int col,
		     const char *origin, fo_diags *d)
{
	char *base = (char *)c + f->offset;
	fo_err e = FO_ERR_INIT;
	switch (f->type) {
	case F_URL:
		if (!url_ok(f, value, file, line, col, origin, d))
			return FO_EINVAL;
		/* fall through */
	case F_STR: {
		char **s = (char **)base;
		free(*s);
		*s = fo_strdup(value);
		return 0;
	}
	case F_BOOL: {
		bool *b = (bool *)base;
		if (strcmp(value, "true") == 0 || strcmp(value, "True") == 0 || strcmp(value, "TRUE") == 0 ||
		    strcmp(value, "1") == 0)
			*b = true;
		else if (strcmp(value, "false") == 0 || strcmp(value, "False") == 0 || strcmp(value, "FALSE") == 0 ||
			 strcmp(value, "0") == 0)
			*b = false;
		else {
			fo_diag_add(d, FO_SEV_ERROR, file, line, col, "%s%s: expected true or false, got \"%s\"", origin,
				    f->path, value);
			return FO_EINVAL;
		}
		return 0;
	}
	case F_DURATION:
		if (fo_duration_parse(value, (int64_t *)base, &e) < 0) {
			fo_diag_add(d, FO_SEV_ERROR, file, line, col, "%s%s: %s", origin, f->path, fo_err_msg(&e));
			fo_err_clear(&e);
			return FO_EINVAL;
		}
		return 0;
	case F_INT: {
		char *end;
		long v = strtol(value, &end, 10);
		if (*end || end == value || v < 0 || v > 64) {
			fo_diag_add(d, FO_SEV_ERROR, file, line, col, "%s%s: expected a whole number from 0 to 64, got \"%s\"",
				    origin, f->path, value);
			return FO_EINVAL;
		}
		*(int *)base = (int)v;
		return 0;
	}
	case F_NAMES:
		return set_names((config_names *)base, value, f, file, line, col, origin, d);
	case F_SIZE:
		/* Flink's units (1g is 1 GiB) or a Kubernetes quantity (1Gi) */
		if (flink_memory_parse(value, (uint64_t *)base, &e) < 0) {
			fo_diag_add(d, FO_SEV_ERROR, file, line, col, "%s%s: %s", origin, f->path, fo_err_msg(&e));
			fo_err_clear(&e);
			return FO_EINVAL;
		}
		return 0;
	case F_RATIO: {
		char *end;
		double v = strtod(value, &end);
		/* written so that NaN fails too: "share > NaN" is never true, and
		 * "nan" would switch the prune guard off */
		if (*end || end == value || !(v >= 0 && v <= 1)) {
			fo_diag_add(d, FO_SEV_ERROR, file, line, col, "%s%s: expected a share between 0 and 1, got \"%s\"",
				    origin, f->path, value);
			return FO_EINVAL;
		}
		*(double *)base = v;
		return 0;
	}
	}
	return 0;
}

static const field *find_field(const char *path)
{
	for (size_t i = 0; i < FO_ARRAY_LEN(fields); i++)
		if (strcmp(fields[i].path, path) == 0)
			return &fields[i];
	return NULL;
}

/* Is `prefix` the first part of some field's path (a section)? */
static bool is_section(const char *prefix)
{
	size_t l = strlen(prefix);
	for (size_t i = 0; i < FO_ARRAY_LEN(fields); i++)
		if (strncmp(fields[i].path, prefix, l) == 0 && fields[i].path[l] == '.')
			return true;
	return false;
}

static void walk(config *c, const char *file, const fo_yaml_node *m, const char *prefix, where *at, fo_diags *d)
{
	for (size_t i = 0; i < m->n; i++) {
		const fo_yaml_node *k = m->items[2 * i], *v = m->items[2 * i + 1];
		char *path = prefix ? fo_asprintf("%s.%s", prefix, k->str) : fo_strdup(k->str);
		const field *f = find_field(path);
		bool secret = false;
		for (const char *const *s = secret_keys; *s; s++)
			secret = secret || strcmp(k->str, *s) == 0;
		if (secret) {
			fo_diag_add(d, FO_SEV_ERROR, file, k->line, k->col,
				    "%s: secrets do not belong in the configuration file; put it in a file and name "
				    "that file (e.g. passwordFile, webhookSecretFile)",
				    path);
		} else if (f && f->type == F_NAMES && v->kind == FO_YAML_SEQ) {
			/* a YAML list of names, or the "a,b" the environment uses */
			fo_buf b = FO_BUF_INIT;
			bool ok = true;
			for (size_t j = 0; j < v->n && ok; j++) {
				const fo_yaml_node *it = v->items[j];
				if (it->kind != FO_YAML_SCALAR || strchr(it->str, ',')) {
					fo_diag_add(d, FO_SEV_ERROR, file, it->line, it->col, "%s: expected a namespace name",
						    path);
					ok = false;
				} else {
					fo_buf_printf(&b, "%s%s", j ? "," : "", it->str);
				}
			}
			if (ok)
				set_field(c, f, b.len ? b.ptr : "", file, v->line, v->col, "", d);
			fo_buf_free(&b);
		} else if (f) {
			if (v->kind != FO_YAML_SCALAR)
				fo_diag_add(d, FO_SEV_ERROR, file, v->line, v->col, "%s: expected a value, got a %s", path,
					    fo_yaml_kind_name(v));
			else if (!fo_yaml_is_null(v) && set_field(c, f, v->str, file, v->line, v->col, "", d) == 0)
				at[field_index(f)] = (where){true, v->line, v->col, ""};
		} else if (is_section(path)) {
			if (v->kind != FO_YAML_MAP)
				fo_diag_add(d, FO_SEV_ERROR, file, v->line, v->col, "%s: expected a mapping", path);
			else
				walk(c, file, v, path, at, d);
		} else {
			fo_diag_add(d, FO_SEV_ERROR, file, k->line, k->col, "unknown setting \"%s\"", path);
		}
		free(path);
	}
}

static const char *env_lookup(char *const *env, const char *name)
{
	if (!env)
		return getenv(name);
	size_t l = strlen(name);
	for (char *const *p = env; *p; p++)
		if (strncmp(*p, name, l) == 0 && (*p)[l] == '=')
			return *p + l + 1;
	return NULL;
}

static bool flink_label_value(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 63 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return false;
	return true;
}

int64_t config_call_bound_ms(const config *c)
{
	int64_t half = c->agent.leader_election.renew_deadline_ms / 2;
	int64_t slack = c->agent.leader_election.lease_duration_ms - c->agent.leader_election.renew_deadline_ms;
	return half < slack ? half : slack;
}

static const where *where_of(const where *at, const char *path)
{
	static const where nowhere = {false, 0, 0, ""};
	const field *f = find_field(path);
	return f ? &at[field_index(f)] : &nowhere;
}

/* The shortest values that make sense: a timeout below it fails every call
 * (or, rounded to whole seconds for git, means none at all), a retry delay
 * below it retries a failing pass in a hot loop. */
#define MIN_TIMEOUT_MS 1000
#define MIN_RETRY_MS 100

static void check_at_least(int64_t v, int64_t min, const char *path, const char *file, const where *at, fo_diags *d)
{
	if (v >= min)
		return;
	const where *w = where_of(at, path);
	fo_diag_add(d, FO_SEV_ERROR, file, w->line, w->col, "%s%s (%lld ms) must be at least %lld ms", w->origin, path,
		    (long long)v, (long long)min);
}

/* Leader election's timings (client-go's rules), and the API timeout they bound. */
static void check_leader_election(config *c, const char *file, const where *at, fo_diags *d)
{
	const char *le = "agent.leaderElection.";
	int64_t lease = c->agent.leader_election.lease_duration_ms, renew = c->agent.leader_election.renew_deadline_ms,
		retry = c->agent.leader_election.retry_period_ms;
	const where *wl = where_of(at, "agent.leaderElection.leaseDuration"),
		    *wd = where_of(at, "agent.leaderElection.renewDeadline"),
		    *wr = where_of(at, "agent.leaderElection.retryPeriod");
	const struct {
		const char *name;
		int64_t v;
		const where *w;
	} all[] = {{"leaseDuration", lease, wl}, {"renewDeadline", renew, wd}, {"retryPeriod", retry, wr}};
	bool positive = true;
	for (size_t i = 0; i < FO_ARRAY_LEN(all); i++)
		if (all[i].v <= 0) {
			fo_diag_add(d, FO_SEV_ERROR, file, all[i].w->line, all[i].w->col, "%s%s%s must be above zero",
				    all[i].w->origin, le, all[i].name);
			positive = false;
		}
	if (!positive)
		return;
	/* every retryPeriod the elector calls the API server */
	check_at_least(retry, MIN_RETRY_MS, "agent.leaderElection.retryPeriod", file, at, d);
	/* the point nearest the user's edit: whichever of the two was set */
	if (lease <= renew) {
		const where *w = wl->set ? wl : wd;
		fo_diag_add(d, FO_SEV_ERROR, file, w->line, w->col,
			    "%s%sleaseDuration (%lld ms) must be longer than %srenewDeadline (%lld ms): a leader gives up "
			    "before another replica may take over, never after",
			    w->origin, le, (long long)lease, le, (long long)renew);
	}
	/* client-go's JitterFactor: a renewal retried after a jittered wait must
	 * still fit before the deadline */
	if ((double)renew <= 1.2 * (double)retry) {
		const where *w = wd->set ? wd : wr;
		fo_diag_add(d, FO_SEV_ERROR, file, w->line, w->col,
			    "%s%srenewDeadline (%lld ms) must be longer than 1.2 x %sretryPeriod (%lld ms)", w->origin, le,
			    (long long)renew, le, (long long)retry);
	}
	if (lease <= renew || (double)renew <= 1.2 * (double)retry || !c->agent.leader_election.enabled)
		return;
	int64_t bound = config_call_bound_ms(c);
	const where *wt = where_of(at, "kubernetes.timeout");
	if (bound < MIN_TIMEOUT_MS) {
		const where *w = wl->set ? wl : wd;
		fo_diag_add(d, FO_SEV_ERROR, file, w->line, w->col,
			    "%s%sleaseDuration (%lld ms) and renewDeadline (%lld ms) leave %lld ms for a Kubernetes call "
			    "(min(renewDeadline / 2, leaseDuration - renewDeadline)); at least %d ms is needed",
			    w->origin, le, (long long)lease, (long long)renew, (long long)bound, MIN_TIMEOUT_MS);
		return;
	}
	if (c->kubernetes.timeout_ms <= bound)
		return;
	if (wt->set)
		fo_diag_add(d, FO_SEV_ERROR, file, wt->line, wt->col,
			    "%skubernetes.timeout (%lld ms) is too long for leader election: a call must end within "
			    "%lld ms (min(renewDeadline / 2, leaseDuration - renewDeadline)), or a write sent by a "
			    "leader about to lose the lease could land after another replica took over",
			    wt->origin, (long long)c->kubernetes.timeout_ms, (long long)bound);
	else
		c->kubernetes.timeout_ms = bound;
}

/* A name the agent puts into an API path (…/namespaces/NS/leases/NAME):
 * Kubernetes' own rule for it, so that nothing else (a "/", "..", "%2F")
 * ever reaches the path. `value` NULL: not set, nothing to check. */
static void check_name(const char *value, bool label, const char *path, const char *file, const where *at,
		       fo_diags *d)
{
	if (!value || (label ? dns_label(value, strlen(value)) : dns_subdomain(value)))
		return;
	const where *w = where_of(at, path);
	fo_diag_add(d, FO_SEV_ERROR, file, w->line, w->col,
		    label ? "%s%s: \"%.80s\" is not a namespace name (a DNS-1123 label: lower-case letters, digits "
			    "and '-', starting and ending with a letter or digit, at most 63)"
			  : "%s%s: \"%.80s\" is not an object name (a DNS-1123 subdomain: lower-case letters, digits, "
			    "'-' and '.', each part starting and ending with a letter or digit, at most 253)",
		    w->origin, path, value);
}

/* Durations that drive a loop or bound a call. */
static void check_durations(const config *c, const char *file, const where *at, fo_diags *d)
{
	check_at_least(c->repository.interval_ms, 1000, "repository.interval", file, at, d);
	static const char *const timeouts[] = {"repository.timeout", "kubernetes.timeout", "flink.savepointTimeout",
					       "flink.readyTimeout", "flink.runningTimeout"};
	const int64_t values[] = {c->repository.timeout_ms, c->kubernetes.timeout_ms, c->flink.savepoint_timeout_ms,
				  c->flink.ready_timeout_ms, c->flink.running_timeout_ms};
	for (size_t i = 0; i < FO_ARRAY_LEN(timeouts); i++)
		check_at_least(values[i], MIN_TIMEOUT_MS, timeouts[i], file, at, d);
	check_at_least(c->agent.retry_initial_ms, MIN_RETRY_MS, "agent.retryInitial", file, at, d);
	if (c->agent.retry_initial_ms >= MIN_RETRY_MS && c->agent.retry_max_ms < c->agent.retry_initial_ms) {
		/* the point nearest the user's edit: whichever of the two was set */
		const where *wm = where_of(at, "agent.retryMax");
		const where *w = wm->set ? wm : where_of(at, "agent.retryInitial");
		fo_diag_add(d, FO_SEV_ERROR, file, w->line, w->col,
			    "%sagent.retryMax (%lld ms) must be at least agent.retryInitial (%lld ms)", w->origin,
			    (long long)c->agent.retry_max_ms, (long long)c->agent.retry_initial_ms);
	}
}

/* Names that go into API paths. */
static void check_names(const config *c, const char *file, const where *at, fo_diags *d)
{
	const struct config_leader_election *le = &c->agent.leader_election;
	check_name(c->kubernetes.namespace, true, "kubernetes.namespace", file, at, d);
	/* empty is unset for these two: the defaults apply (elector.c) */
	if (le->namespace && *le->namespace)
		check_name(le->namespace, true, "agent.leaderElection.namespace", file, at, d);
	if (le->lease_name && *le->lease_name)
		check_name(le->lease_name, false, "agent.leaderElection.leaseName", file, at, d);
	/* without a leaseName, agent.name names the Lease: a label value
	 * (My_Agent) is not always an object name */
	if (le->enabled && !(le->lease_name && *le->lease_name) && c->agent.name && !dns_subdomain(c->agent.name)) {
		const where *w = where_of(at, "agent.name");
		fo_diag_add(d, FO_SEV_ERROR, file, w->line, w->col,
			    "%sagent.name \"%.80s\" names the Lease (no agent.leaderElection.leaseName) but is not an "
			    "object name (a DNS-1123 subdomain: lower-case letters, digits, '-' and '.'); set "
			    "agent.leaderElection.leaseName",
			    w->origin, c->agent.name);
	}
}

/* The webhook listener's bounds and TLS: a certificate without its key (or
 * the reverse) is a half-done setup, refused rather than served plain. */
static void check_listener(const config *c, const char *file, const where *at, fo_diags *d)
{
	check_at_least(c->agent.request_timeout_ms, MIN_TIMEOUT_MS, "agent.requestTimeout", file, at, d);
	int per = c->agent.max_connections_per_client;
	if (per < 1 || per > CONFIG_CONNECTIONS_MAX) {
		const where *w = where_of(at, "agent.maxConnectionsPerClient");
		fo_diag_add(d, FO_SEV_ERROR, file, w->line, w->col,
			    "%sagent.maxConnectionsPerClient (%d) must be from 1 to %d (the listener's connections in all)",
			    w->origin, per, CONFIG_CONNECTIONS_MAX);
	}
	bool cert = c->agent.tls.cert_file && *c->agent.tls.cert_file,
	     key = c->agent.tls.key_file && *c->agent.tls.key_file;
	if (cert != key) {
		const where *w = where_of(at, cert ? "agent.tls.certFile" : "agent.tls.keyFile");
		fo_diag_add(d, FO_SEV_ERROR, file, w->line, w->col,
			    "%sagent.tls.%s is set but agent.tls.%s is not: TLS needs both (tls.crt and tls.key of a "
			    "kubernetes.io/tls Secret)",
			    w->origin, cert ? "certFile" : "keyFile", cert ? "keyFile" : "certFile");
	}
}

static void check(config *c, const char *file, const where *at, fo_diags *d)
{
	if (!c->repository.url || !*c->repository.url)
		fo_diag_add(d, FO_SEV_ERROR, file, 0, 0, "repository.url is required (or FLINKOPS_REPOSITORY_URL)");
	check_durations(c, file, at, d);
	check_names(c, file, at, d);
	check_listener(c, file, at, d);
	if (!c->kubernetes.in_cluster && !c->kubernetes.kubeconfig)
		fo_diag_add(d, FO_SEV_ERROR, file, 0, 0,
			    "name kubernetes.kubeconfig, or set kubernetes.inCluster: true when running in a pod");
	if (c->status.folder && (c->status.folder[0] == '/' || strstr(c->status.folder, "..")))
		fo_diag_add(d, FO_SEV_ERROR, file, 0, 0, "status.folder must be a relative path inside the repository");
	if (c->kubernetes.concurrency < 1)
		fo_diag_add(d, FO_SEV_ERROR, file, 0, 0, "kubernetes.concurrency must be at least 1");
	if (!c->agent.name || !flink_label_value(c->agent.name))
		fo_diag_add(d, FO_SEV_ERROR, file, 0, 0, "agent.name must be a valid label value: letters, digits, '-', '_', '.', at most 63");
	if (c->flink.rest_url && !strstr(c->flink.rest_url, "://"))
		fo_diag_add(d, FO_SEV_ERROR, file, 0, 0, "flink.restUrl must be a URL template such as http://{name}-rest.{namespace}.svc:8081");
	if (c->flink.rollback && strcmp(c->flink.rollback, "auto") != 0 && strcmp(c->flink.rollback, "off") != 0) {
		const where *w = where_of(at, "flink.rollback");
		fo_diag_add(d, FO_SEV_ERROR, file, w->line, w->col, "%sflink.rollback must be auto or off, got \"%s\"",
			    w->origin, c->flink.rollback);
	}
	check_leader_election(c, file, at, d);
}

int config_load_text(const char *name, const char *text, size_t len, char *const *env, config **out, fo_diags *d)
{
	*out = NULL;
	size_t errors = d->nerrors;
	config *c = fo_calloc(1, sizeof(*c));
	where *at = fo_calloc(FO_ARRAY_LEN(fields), sizeof(*at));
	char *origins[FO_ARRAY_LEN(fields)] = {0};
	c->source = fo_strdup(name ? name : "(environment)");
	for (size_t i = 0; i < FO_ARRAY_LEN(fields); i++)
		if (fields[i].def)
			set_field(c, &fields[i], fields[i].def, c->source, 0, 0, "", d);
	if (text) {
		fo_yaml_file *f = NULL;
		if (fo_yaml_load(c->source, text, len, NULL, &f, d) == 0) {
			const fo_yaml_node *root = f->ndocs ? f->docs[0] : NULL;
			if (root && root->kind == FO_YAML_MAP)
				walk(c, c->source, root, NULL, at, d);
			else if (root && !fo_yaml_is_null(root))
				fo_diag_add(d, FO_SEV_ERROR, c->source, root->line, root->col, "expected a mapping of settings");
			fo_yaml_file_free(f);
		}
	}
	for (size_t i = 0; i < FO_ARRAY_LEN(fields); i++) {
		char *var = config_env_name(fields[i].path);
		const char *v = env_lookup(env, var);
		if (v) {
			char *origin = fo_asprintf("%s overrides ", var);
			if (set_field(c, &fields[i], v, c->source, 0, 0, origin, d) == 0) {
				at[i] = (where){true, 0, 0, origin};
				origins[i] = origin; /* kept for the checks below */
			} else {
				free(origin);
			}
		}
		free(var);
	}
	if (!c->status.branch && c->repository.branch)
		c->status.branch = fo_strdup(c->repository.branch);
	if (!where_of(at, "agent.leaderElection.enabled")->set)
		c->agent.leader_election.enabled = c->kubernetes.in_cluster;
	if (d->nerrors == errors)
		check(c, c->source, at, d);
	for (size_t i = 0; i < FO_ARRAY_LEN(fields); i++)
		free(origins[i]);
	free(at);
	if (d->nerrors > errors) {
		config_free(c);
		return FO_EINVAL;
	}
	*out = c;
	return 0;
}

int config_load(const char *path, config **out, fo_diags *d)
{
	*out = NULL;
	if (!path)
		return config_load_text(NULL, NULL, 0, NULL, out, d);
	char *text = NULL;
	size_t len = 0;
	fo_err e = FO_ERR_INIT;
	if (fo_fs_read(path, 1u << 20, &text, &len, &e) < 0) {
		fo_diag_add(d, FO_SEV_ERROR, path, 0, 0, "%s", fo_err_msg(&e));
		fo_err_clear(&e);
		return FO_EIO;
	}
	int rc = config_load_text(path, text, len, NULL, out, d);
	free(text);
	return rc;
}

void config_free(config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < FO_ARRAY_LEN(fields); i++)
		if (fields[i].type == F_STR || fields[i].type == F_URL)
			free(*(char **)((char *)c + fields[i].offset));
		else if (fields[i].type == F_NAMES)
			names_free((config_names *)((char *)c + fields[i].offset));
	free(c->source);
	free(c);
}
