/*
 * The daemon's metrics: plain counters and histograms that the loop and the
 * HTTP thread update under agent_state.lock, and their Prometheus text
 * (format 0.0.4). Formatting is pure — a function of the values alone — so
 * that the exact text, buckets cumulative and +Inf equal to _count, is a
 * table test.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "agent/daemon.h"

#include "deploy/bluegreen.h"

/* A pass is seconds when nothing changed, minutes when a big repository is
 * first cloned; a fetch is well under a second when nothing is new. */
static const double pass_bounds[] = {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};
static const double fetch_bounds[] = {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
/* A savepoint takes under a second on a small job and many minutes with
 * large state; an upgrade adds pods starting and the job restoring. Beyond
 * an hour something is wrong anyway. */
static const double rollout_bounds[] = {0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600};
static const int hook_codes[AGENT_NHOOK_CODES] = AGENT_HOOK_CODES;

void agent_hist_observe(agent_hist *h, double v)
{
	size_t i = 0;
	while (i < h->nbounds && v > h->bounds[i])
		i++;
	h->counts[i]++;
	h->count++;
	h->sum += v;
}

void agent_metric_values_init(agent_metric_values *v, const char *version, const char *revision)
{
	memset(v, 0, sizeof(*v));
	v->version = version;
	v->revision = revision;
	v->pass_seconds.bounds = pass_bounds;
	v->pass_seconds.nbounds = FO_ARRAY_LEN(pass_bounds);
	v->fetch_seconds.bounds = fetch_bounds;
	v->fetch_seconds.nbounds = FO_ARRAY_LEN(fetch_bounds);
	v->bg_switch_seconds.bounds = rollout_bounds;
	v->bg_switch_seconds.nbounds = FO_ARRAY_LEN(rollout_bounds);
}

void agent_metric_bluegreen(agent_metric_values *v, const deploy_bg_pass *bg)
{
	for (size_t i = 0; bg && i < bg->n; i++) {
		const deploy_bg_item *it = &bg->v[i];
		v->bg_switches[0] += it->cutovers;
		v->bg_switches[1] += it->aborts;
		v->bg_switches[2] += it->cancels;
		if (it->switch_ms >= 0)
			agent_hist_observe(&v->bg_switch_seconds, (double)it->switch_ms / 1000.0);
	}
}

void agent_metric_values_free(agent_metric_values *v)
{
	for (size_t i = 0; i < v->ndeps; i++) {
		free(v->deps[i].ns);
		free(v->deps[i].name);
	}
	free(v->deps);
	v->deps = NULL;
	v->ndeps = 0;
}

static int series_cmp(const char *ns, const char *name, const agent_deploy_series *s)
{
	int c = strcmp(ns, s->ns);
	return c ? c : strcmp(name, s->name);
}

/* The index of the series of ns/name, or where it would be inserted (*found false). */
static size_t series_find(const agent_metric_values *v, const char *ns, const char *name, bool *found)
{
	size_t lo = 0, hi = v->ndeps;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = series_cmp(ns, name, &v->deps[mid]);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	*found = false;
	return lo;
}

static agent_deploy_series *series_get(agent_metric_values *v, const char *ns, const char *name)
{
	bool found;
	size_t i = series_find(v, ns, name, &found);
	if (found)
		return &v->deps[i];
	v->deps = fo_realloc(v->deps, (v->ndeps + 1) * sizeof(*v->deps));
	memmove(&v->deps[i + 1], &v->deps[i], (v->ndeps - i) * sizeof(*v->deps));
	v->ndeps++;
	agent_deploy_series *s = &v->deps[i];
	memset(s, 0, sizeof(*s));
	s->ns = fo_strdup(ns);
	s->name = fo_strdup(name);
	s->savepoint_seconds.bounds = rollout_bounds;
	s->savepoint_seconds.nbounds = FO_ARRAY_LEN(rollout_bounds);
	s->upgrade_seconds.bounds = rollout_bounds;
	s->upgrade_seconds.nbounds = FO_ARRAY_LEN(rollout_bounds);
	return s;
}

void agent_metric_rollouts(agent_metric_values *v, const deploy_pass *p, bool complete)
{
	for (size_t i = 0; i < p->n; i++) {
		const deploy_item *it = &p->items[i];
		if ((unsigned)it->failure < DEPLOY_NFAILURES && it->failure != DEPLOY_FAILURE_NONE)
			v->upgrade_failures[it->failure]++;
		if (it->rollback_started)
			v->rollbacks++;
		/* a deployment gone from git gets no series (its final savepoint
		 * included): the series would only be dropped again */
		if (!it->fd || !it->ns || !it->name || (!it->savepoint_done && !it->upgrade_done))
			continue;
		agent_deploy_series *s = series_get(v, it->ns, it->name);
		if (it->savepoint_done)
			agent_hist_observe(&s->savepoint_seconds, (double)it->ms_savepoint / 1000.0);
		if (it->upgrade_done)
			agent_hist_observe(&s->upgrade_seconds, (double)it->ms_upgrade / 1000.0);
	}
	for (size_t i = 0; i < p->n; i++) {
		const deploy_item *it = &p->items[i];
		if (!it->fd || !it->ns || !it->name || it->outcome == DEPLOY_OUTCOME_NOT_ATTEMPTED)
			continue; /* not attempted: what it waited for is unknown, its gauge stands */
		bool found;
		size_t k = series_find(v, it->ns, it->name, &found);
		if (it->outcome == DEPLOY_OUTCOME_WAITING && it->wait_ms >= 0) {
			agent_deploy_series *s = found ? &v->deps[k] : series_get(v, it->ns, it->name);
			s->wait_step = deploy_step_name(it->journal.step);
			s->wait_seconds = (double)it->wait_ms / 1000.0;
		} else if (found) {
			v->deps[k].wait_step = NULL;
		}
	}
	if (!complete)
		return;
	for (size_t i = 0; i < v->ndeps; i++)
		v->deps[i].seen = false;
	for (size_t i = 0; i < p->n; i++) {
		const deploy_item *it = &p->items[i];
		bool found;
		if (!it->fd || !it->ns || !it->name)
			continue;
		size_t k = series_find(v, it->ns, it->name, &found);
		if (found)
			v->deps[k].seen = true;
	}
	size_t kept = 0;
	for (size_t i = 0; i < v->ndeps; i++) {
		if (v->deps[i].seen) {
			v->deps[kept++] = v->deps[i];
		} else {
			free(v->deps[i].ns);
			free(v->deps[i].name);
		}
	}
	v->ndeps = kept;
}

void agent_metric_hook(agent_metric_values *v, enum agent_provider p, int code)
{
	if ((unsigned)p >= AGENT_HOOK_NPROVIDERS)
		p = AGENT_HOOK_UNKNOWN;
	for (size_t i = 0; i < AGENT_NHOOK_CODES; i++)
		if (hook_codes[i] == code) {
			v->hooks[p][i]++;
			return;
		}
	v->hooks[p][AGENT_NHOOK_CODES - 1]++; /* anything else is a server error */
}

/* A label value in the exposition format: backslash, quote and newline escaped. */
static void put_label(fo_buf *b, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\' || *s == '"')
			fo_buf_putc(b, '\\');
		if (*s == '\n') {
			fo_buf_puts(b, "\\n");
			continue;
		}
		fo_buf_putc(b, *s);
	}
}

/* A sample value: integers without a fraction, others shortest round-trip. */
static void put_value(fo_buf *b, double d)
{
	if (isinf(d))
		fo_buf_puts(b, d > 0 ? "+Inf" : "-Inf");
	else if (d == floor(d) && fabs(d) < 1e15)
		fo_buf_printf(b, "%.0f", d);
	else {
		/* the shortest that reads back the same: 0.1, not 0.10000000000000001 */
		for (int prec = 15; prec <= 17; prec++) {
			char *t = fo_asprintf("%.*g", prec, d);
			bool same = strtod(t, NULL) == d || prec == 17;
			if (same)
				fo_buf_puts(b, t);
			free(t);
			if (same)
				break;
		}
	}
}

static void header(fo_buf *b, const char *name, const char *type, const char *help)
{
	fo_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The samples of one histogram series; `labels` is its label pairs
 * ("a=\"x\",b=\"y\"", already escaped) or "" for none. */
static void hist_series(fo_buf *b, const char *name, const char *labels, const agent_hist *h)
{
	const char *sep = *labels ? "," : "";
	uint64_t cum = 0;
	for (size_t i = 0; i < h->nbounds; i++) {
		cum += h->counts[i];
		fo_buf_printf(b, "%s_bucket{%s%sle=\"", name, labels, sep);
		put_value(b, h->bounds[i]);
		fo_buf_printf(b, "\"} %llu\n", (unsigned long long)cum);
	}
	/* +Inf is everything, the same number as _count */
	fo_buf_printf(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep, (unsigned long long)h->count);
	fo_buf_printf(b, *labels ? "%s_sum{%s} " : "%s_sum%s ", name, labels);
	put_value(b, h->sum);
	fo_buf_printf(b, *labels ? "\n%s_count{%s} %llu\n" : "\n%s_count%s %llu\n", name, labels,
		      (unsigned long long)h->count);
}

static void hist(fo_buf *b, const char *name, const char *help, const agent_hist *h)
{
	header(b, name, "histogram", help);
	hist_series(b, name, "", h);
}

/* One histogram family with a series per deployment (`which` picks the
 * histogram of a series). */
static void deploy_hist(fo_buf *b, const agent_metric_values *v, const char *name, const char *help,
			const agent_hist *(*which)(const agent_deploy_series *))
{
	header(b, name, "histogram", help);
	fo_buf labels = FO_BUF_INIT;
	for (size_t i = 0; i < v->ndeps; i++) {
		const agent_hist *h = which(&v->deps[i]);
		if (!h->count)
			continue; /* a deployment that had only the other kind */
		fo_buf_clear(&labels);
		fo_buf_puts(&labels, "namespace=\"");
		put_label(&labels, v->deps[i].ns);
		fo_buf_puts(&labels, "\",name=\"");
		put_label(&labels, v->deps[i].name);
		fo_buf_putc(&labels, '"');
		hist_series(b, name, fo_buf_cstr(&labels), h);
	}
	fo_buf_free(&labels);
}

static const agent_hist *savepoint_of(const agent_deploy_series *s)
{
	return &s->savepoint_seconds;
}

static const agent_hist *upgrade_of(const agent_deploy_series *s)
{
	return &s->upgrade_seconds;
}

void agent_metrics_format(const agent_metric_values *v, fo_buf *b)
{
	static const char *const outcomes[] = {"success", "failed", "error"};
	static const char *const kinds[] = {"ConfigMap", "Service", "StatefulSet", "Ingress"};
	static const char *const results[] = {"success", "error"};

	header(b, "flinkops_build_info", "gauge", "The version of flinkops running (always 1).");
	fo_buf_puts(b, "flinkops_build_info{version=\"");
	put_label(b, v->version);
	fo_buf_puts(b, "\",revision=\"");
	put_label(b, v->revision);
	fo_buf_puts(b, "\"} 1\n");

	header(b, "flinkops_passes_total", "counter",
	       "Passes by result: success, failed (deployments failed), error (could not complete).");
	for (size_t i = 0; i < AGENT_PASS_NOUTCOMES; i++)
		fo_buf_printf(b, "flinkops_passes_total{result=\"%s\"} %llu\n", outcomes[i],
			      (unsigned long long)v->passes[i]);

	hist(b, "flinkops_pass_duration_seconds", "How long a pass took.", &v->pass_seconds);

	header(b, "flinkops_last_successful_pass_timestamp_seconds", "gauge",
	       "Unix time of the last pass that completed with no deployment failed (0: none yet).");
	fo_buf_puts(b, "flinkops_last_successful_pass_timestamp_seconds ");
	put_value(b, v->last_success);
	fo_buf_putc(b, '\n');

	header(b, "flinkops_consecutive_failed_passes", "gauge",
	       "Passes in a row that could not complete (the backoff grows with it).");
	fo_buf_printf(b, "flinkops_consecutive_failed_passes %u\n", v->consecutive_failures);

	hist(b, "flinkops_git_fetch_duration_seconds", "How long fetching and reading the repository took.",
	     &v->fetch_seconds);

	header(b, "flinkops_objects_applied_total", "counter", "Kubernetes objects applied, by kind and result.");
	for (size_t k = 0; k < AGENT_NKINDS; k++)
		for (size_t r = 0; r < 2; r++)
			fo_buf_printf(b, "flinkops_objects_applied_total{kind=\"%s\",result=\"%s\"} %llu\n", kinds[k],
				      results[r], (unsigned long long)v->applied[k][r]);

	header(b, "flinkops_rollouts_in_progress", "gauge",
	       "Deployments the last pass left waiting on Flink or the cluster.");
	fo_buf_printf(b, "flinkops_rollouts_in_progress %llu\n", (unsigned long long)v->rollouts_in_progress);
	header(b, "flinkops_rollout_wait_seconds", "gauge",
	       "How long a deployment the last pass left waiting has waited, by the journal step it waits at.");
	for (size_t i = 0; i < v->ndeps; i++) {
		if (!v->deps[i].wait_step)
			continue;
		fo_buf_puts(b, "flinkops_rollout_wait_seconds{namespace=\"");
		put_label(b, v->deps[i].ns);
		fo_buf_puts(b, "\",name=\"");
		put_label(b, v->deps[i].name);
		fo_buf_printf(b, "\",step=\"%s\"} ", v->deps[i].wait_step);
		put_value(b, v->deps[i].wait_seconds);
		fo_buf_putc(b, '\n');
	}

	header(b, "flinkops_leader", "gauge",
	       "1 while this replica holds the leader election's Lease and may act (always 1 without leader election).");
	fo_buf_printf(b, "flinkops_leader %u\n", v->leader);
	header(b, "flinkops_leader_transitions_total", "counter",
	       "Times this replica's leadership changed: acquired, lost or released.");
	fo_buf_printf(b, "flinkops_leader_transitions_total %llu\n", (unsigned long long)v->leader_transitions);
	deploy_hist(b, v, "flinkops_savepoint_duration_seconds",
		    "How long a deployment's savepoints took, from the stop's trigger to Flink's COMPLETED.",
		    savepoint_of);
	deploy_hist(b, v, "flinkops_upgrade_duration_seconds",
		    "How long a deployment's upgrades took, from the first step (the old job's stop or cancel) "
		    "to the new job RUNNING.",
		    upgrade_of);

	header(b, "flinkops_upgrade_failures_total", "counter",
	       "Rollout steps that failed, by reason (savepoint_failed, state_unknown, restart_budget, ...).");
	for (int f = DEPLOY_FAILURE_NONE + 1; f < DEPLOY_NFAILURES; f++)
		fo_buf_printf(b, "flinkops_upgrade_failures_total{reason=\"%s\"} %llu\n",
			      deploy_failure_name((enum deploy_failure)f), (unsigned long long)v->upgrade_failures[f]);

	header(b, "flinkops_rollbacks_total", "counter",
	       "Rollbacks started: an upgrade's new job judged unhealthy, its failed job cancelled and the previous "
	       "commit's spec set to run again (the cause is counted in flinkops_upgrade_failures_total).");
	fo_buf_printf(b, "flinkops_rollbacks_total %llu\n", (unsigned long long)v->rollbacks);

	header(b, "flinkops_bluegreen_switches_total", "counter",
	       "Blue/green transitions that ended: cutover (the new colour caught up and took over), abort (it did not "
	       "in the grace period, or failed: removed, the old colour runs on), cancel (git went back or suspended).");
	static const char *const how[] = {"cutover", "abort", "cancel"};
	for (size_t k = 0; k < FO_ARRAY_LEN(how); k++)
		fo_buf_printf(b, "flinkops_bluegreen_switches_total{result=\"%s\"} %llu\n", how[k],
			      (unsigned long long)v->bg_switches[k]);
	hist(b, "flinkops_bluegreen_switch_duration_seconds",
	     "How long a blue/green transition took, from the new colour's start to the cut-over.", &v->bg_switch_seconds);

	header(b, "flinkops_webhook_requests_total", "counter", "Webhook requests by provider and HTTP status answered.");
	for (size_t p = 0; p < AGENT_HOOK_NPROVIDERS; p++)
		for (size_t c = 0; c < AGENT_NHOOK_CODES; c++)
			if (v->hooks[p][c])
				fo_buf_printf(b, "flinkops_webhook_requests_total{provider=\"%s\",code=\"%d\"} %llu\n",
					      agent_provider_name((enum agent_provider)p), hook_codes[c],
					      (unsigned long long)v->hooks[p][c]);
}
