/*
 * `flinkops plan --live`: what the next `sync` would do, compared with the
 * cluster instead of a base revision. It reads (LIST, and a dry-run apply
 * only to confirm a suspected drift) and writes nothing. The same reconcile
 * planning as `sync` decides, so the review shows exactly what the agent
 * will do, drift included.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/cli.h"
#include "deploy/deploy.h"
#include "flink/rest.h"
#include "lib/buf.h"
#include "lib/diff.h"
#include "lib/yaml.h"

static const char usage[] =
	"usage: flinkops plan --live --config FILE [--manifests DIR] [--max-state-age D]\n"
	"                            [-o text|markdown|json]\n"
	"\n"
	"Compare the FlinkDeployments of the configured repository (or of DIR, e.g.\n"
	"a pull request's checkout) with what the cluster runs, and print what the\n"
	"next sync would do: per deployment the action, drifted fields, the state\n"
	"the job's next start uses, warnings and a diff of the objects (the live side\n"
	"shows only the fields flinkops sets). For a last-state upgrade the state is\n"
	"the running job's newest checkpoint, read from Flink with its path and age;\n"
	"for a resume, the savepoint the suspend took and its age, from the rollout\n"
	"journal.\n"
	"Nothing in the cluster or in Flink is changed.\n"
	"\n"
	"  --max-state-age D      warn when that state is older than D (default 1h)\n"
	"\n"
	"Exit status: 0 nothing would change, 2 something would, 1 an error.\n";

/* The live object cut down to the fields the rendered one sets, so that a
 * diff shows differences, not the server's defaults and status. */
static cJSON *project(const cJSON *want, const cJSON *have)
{
	if (!have)
		return NULL;
	if (cJSON_IsObject(want) && cJSON_IsObject(have)) {
		cJSON *o = cJSON_CreateObject();
		for (const cJSON *c = want->child; c; c = c->next) {
			cJSON *p = project(c, cJSON_GetObjectItemCaseSensitive(have, c->string));
			if (p)
				cJSON_AddItemToObject(o, c->string, p);
		}
		return o;
	}
	if (cJSON_IsArray(want) && cJSON_IsArray(have)) {
		cJSON *a = cJSON_CreateArray();
		const cJSON *w = want->child;
		for (const cJSON *h = have->child; h; h = h->next) {
			cJSON *p = w ? project(w, h) : cJSON_Duplicate(h, true);
			cJSON_AddItemToArray(a, p ? p : cJSON_CreateNull());
			if (w)
				w = w->next;
		}
		return a;
	}
	return cJSON_Duplicate(have, true);
}

static void without_hashes(fo_buf *out, const char *text)
{
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);
		if (!strstr(p, "flinkops.io/") || (nl && strstr(p, "flinkops.io/") > nl))
			fo_buf_put(out, p, len);
		p += len;
	}
}

static char *item_diff(const deploy_item *it, const char *agent)
{
	fo_buf a = FO_BUF_INIT, b = FO_BUF_INIT, d = FO_BUF_INIT, ta = FO_BUF_INIT, tb = FO_BUF_INIT;
	render_objects o = {0};
	if (it->fd && render_deployment(it->fd, &o, NULL) == 0) {
		for (size_t k = 0; k < o.n; k++) {
			if (!o.v[k]) {
				/* an optional component git no longer renders: it goes */
				if (it->live[k]) {
					fo_buf_puts(&ta, "---\n");
					fo_yaml_emit(&ta, it->live[k]);
				}
				continue;
			}
			cJSON *labels = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o.v[k], "metadata"), "labels");
			cJSON_AddStringToObject(labels, DEPLOY_LABEL_AGENT, agent);
			cJSON *lp = project(o.v[k], it->live[k]);
			if (lp) {
				fo_buf_puts(&ta, "---\n");
				fo_yaml_emit(&ta, lp);
				cJSON_Delete(lp);
			}
			fo_buf_puts(&tb, "---\n");
			fo_yaml_emit(&tb, o.v[k]);
		}
	} else {
		for (size_t k = 0; k < RENDER_NCOMPONENTS; k++) {
			if (!it->live[k])
				continue;
			fo_buf_puts(&ta, "---\n");
			fo_yaml_emit(&ta, it->live[k]);
		}
	}
	without_hashes(&a, fo_buf_cstr(&ta));
	without_hashes(&b, fo_buf_cstr(&tb));
	char *an = fo_asprintf("live/%s/%s", it->ns, it->name), *bn = fo_asprintf("git/%s/%s", it->ns, it->name);
	fo_diff_unified(&d, fo_buf_cstr(&a), a.len, fo_buf_cstr(&b), b.len, an, bn, 3);
	free(an);
	free(bn);
	render_objects_free(&o);
	fo_buf_free(&a);
	fo_buf_free(&b);
	fo_buf_free(&ta);
	fo_buf_free(&tb);
	return fo_buf_detach(&d);
}

/* The plain objects' changes a pass would make (a delete that is kept
 * counts: git says it goes). */
static size_t plain_changes(const deploy_plain_plan *p)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n; i++)
		n += p->v[i].op != DEPLOY_PLAIN_KEEP;
	return n;
}

static bool item_changes(const deploy_item *it)
{
	if (!it->fd)
		return true;
	for (int k = 0; k < RENDER_NCOMPONENTS; k++)
		if (it->state[k] != DEPLOY_OBJ_EQUAL)
			return true;
	return false;
}

/* What the journal and Flink say about one deployment's job; `f` borrows
 * from the rest. */
typedef struct live_facts {
	deploy_journal j;
	flink_checkpoint_info ck;
	char *error;
	deploy_state_facts f;
} live_facts;

/*
 * Gather the facts the state line of `it` needs (read only): the journal's
 * job and newest savepoint (a resume starts from it) from the inventory, and
 * for a last-state upgrade the job's newest checkpoint from Flink (GET
 * /jobs/:id/checkpoints at the configured REST URL). What cannot be read is
 * x->f.error, which the plan prints instead of a path.
 */
static void gather_facts(const config *cfg, const deploy_live *live, const deploy_item *it, live_facts *x)
{
	memset(x, 0, sizeof(*x));
	x->ck.latest_id = -1;
	x->f.asked = true;
	x->f.checkpoint_ms = -1;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	x->f.now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	fo_err e = FO_ERR_INIT;
	flink_rest *c = NULL;
	char *url = NULL;
	const char *text = deploy_live_journal(live, it->ns, it->name);
	if (text && deploy_journal_decode(text, &x->j, &e) < 0) {
		x->error = fo_asprintf("the rollout journal does not decode: %s", fo_err_msg(&e));
		goto cleanup;
	}
	/* what a resume starts from, as the rollout decides it (deploy/next.c):
	 * the state the suspend kept, else the newest savepoint */
	bool kept = x->j.restore_path && !x->j.job_id && x->j.step == DEPLOY_STEP_IDLE;
	x->f.suspend_savepoint = kept ? x->j.restore_path : x->j.savepoint_path;
	x->f.suspend_savepoint_ms = deploy_time_ms(kept ? x->j.restore_time : x->j.savepoint_time);
	x->f.job_id = x->j.job_id;
	bool last_state = it->fd && it->fd->has_job && it->fd->job.upgrade_mode == FLINK_UPGRADE_LAST_STATE;
	if (it->change.action != DEPLOY_UPGRADE || !it->change.restarts_job || !last_state)
		goto cleanup; /* nothing else to read from Flink */
	if (!cfg->flink.submit_jobs) {
		x->error = fo_strdup("flink.submitJobs is false, so flinkops knows no job of it");
		goto cleanup;
	}
	if (!x->j.job_id) {
		x->error = fo_strdup("the rollout journal names no job");
		goto cleanup;
	}
	/* a session job's job runs on its cluster */
	url = deploy_rest_url(cfg->flink.rest_url, it->ns, it->cluster ? it->cluster : it->name);
	flink_rest_opts ro = {.ca_file = cfg->flink.ca_file};
	if (flink_rest_new(url, &ro, &c, &e) < 0 || flink_rest_checkpoints(c, x->j.job_id, &x->ck, &e) < 0) {
		x->error = fo_strdup(fo_err_msg(&e));
		goto cleanup;
	}
	x->f.checkpoint_path = x->ck.latest_path;
	x->f.checkpoint_is_savepoint = x->ck.latest_is_savepoint;
	x->f.checkpoint_ms = x->ck.latest_path ? x->ck.latest_trigger_time : -1;
	x->f.restored_path = x->ck.restored_path;
cleanup:
	x->f.error = x->error;
	flink_rest_free(c);
	free(url);
	fo_err_clear(&e);
}

static void live_facts_free(live_facts *x)
{
	deploy_journal_clear(&x->j);
	flink_checkpoint_info_free(&x->ck);
	free(x->error);
	memset(x, 0, sizeof(*x));
}

/* Each item's state line, now with what the journal and Flink say. */
static void refine_states(const config *cfg, const deploy_live *live, deploy_pass *pass, int64_t max_age_ms)
{
	for (size_t i = 0; i < pass->n; i++) {
		deploy_item *it = &pass->items[i];
		if (it->change.state.from == DEPLOY_STATE_NONE)
			continue;
		live_facts x;
		gather_facts(cfg, live, it, &x);
		deploy_side to = {0};
		to.fd = it->fd;
		deploy_plan_state(&it->change, &to, &x.f, max_age_ms, &it->change.state);
		live_facts_free(&x);
	}
}

static void print_item(const deploy_item *it, const char *agent, bool markdown, fo_buf *out)
{
	deploy_side to = {0};
	to.fd = it->fd;
	deploy_side from = {0};
	deploy_side_from_live(&from, (cJSON *const *)it->live);
	const char *label = deploy_action_label(it->change.action, &to, &from);
	if (markdown)
		fo_buf_printf(out, "### `%s/%s`: %s\n\n", it->ns, it->name, label);
	else
		fo_buf_printf(out, "%s/%s: %s\n", it->ns, it->name, label);
	for (int k = 0; k < RENDER_NCOMPONENTS; k++)
		if (it->drift[k])
			fo_buf_printf(out, markdown ? "- drift: `%s`\n" : "  drift: %s\n", it->drift[k]);
	const deploy_state *st = &it->change.state;
	if (st->text)
		fo_buf_printf(out, markdown ? "- state: %s\n" : "  state: %s\n", st->text);
	if (st->jm_restart)
		fo_buf_printf(out, markdown ? "- JobManager restart: %s\n" : "  JobManager restart: %s\n", st->jm_restart);
	for (size_t w = 0; w < it->change.nwarnings; w++)
		fo_buf_printf(out, markdown ? "- **warning:** %s\n" : "  warning: %s\n", it->change.warnings[w].text);
	for (size_t w = 0; w < st->nwarnings; w++)
		fo_buf_printf(out, markdown ? "- **warning:** %s\n" : "  warning: %s\n", st->warnings[w].text);
	if (it->error)
		fo_buf_printf(out, markdown ? "- **error:** %s\n" : "  error: %s\n", it->error);
	char *diff = item_diff(it, agent);
	if (*diff)
		fo_buf_printf(out, markdown ? "\n```diff\n%s```\n\n" : "%s", diff);
	free(diff);
}

/*
 * A deployment whose git spec failed and was rolled back (agent/pass.c ran
 * the previous commit's spec in its place): the plan of that older spec
 * shows no change, so say what git asks for and why it does not run. The
 * journal names the failed commit and the cause. Nothing for the others.
 */
static void print_rolled_back(const deploy_live *live, const deploy_item *it, bool markdown, fo_buf *out)
{
	if (!it->fd || !it->fd->spec_commit)
		return;
	deploy_journal j;
	memset(&j, 0, sizeof(j));
	fo_err e = FO_ERR_INIT;
	const char *text = deploy_live_journal(live, it->ns, it->name);
	bool read = text && deploy_journal_decode(text, &j, &e) == 0;
	if (markdown)
		fo_buf_printf(out, "### `%s/%s`: rolled back\n\n- ", it->ns, it->name);
	else
		fo_buf_printf(out, "%s/%s: rolled back\n  ", it->ns, it->name);
	fo_buf_printf(out,
		      "git's spec (as of commit %.7s) did not become healthy: %s; the spec as of commit %.7s runs "
		      "instead, until a new commit changes the file\n",
		      read && j.rollback_of_commit ? j.rollback_of_commit : "?",
		      read && j.rollback_cause ? j.rollback_cause : "its cause is in the status file",
		      it->fd->spec_commit);
	if (markdown)
		fo_buf_puts(out, "\n");
	deploy_journal_clear(&j);
	fo_err_clear(&e);
}

const struct option cli_plan_live_options[] = {
	{"live", no_argument, NULL, 'l'},
	{"config", required_argument, NULL, 'c'},
	{"manifests", required_argument, NULL, 'm'},
	{"max-state-age", required_argument, NULL, 'a'},
	{"output", required_argument, NULL, 'o'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

int cmd_plan_live(int argc, char **argv)
{
	const char *cfg_path = NULL, *manifests = NULL, *format = "text";
	int64_t max_age_ms = DEPLOY_MAX_STATE_AGE_MS;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, cli_verb_plan.optstring, cli_plan_live_options, NULL)) != -1) {
		switch (c) {
		case 'l': break;
		case 'c': cfg_path = optarg; break;
		case 'm': manifests = optarg; break;
		case 'a':
			if (cli_max_state_age(optarg, &max_age_ms) < 0)
				return EXIT_FAIL;
			break;
		case 'o':
			if (cli_choice("plan", "output format", cli_verb_plan.outputs, optarg) < 0)
				return EXIT_FAIL;
			format = optarg;
			break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: return cli_usage_error("plan", "unknown option (with --live: --config, --manifests, --max-state-age, -o)");
		}
	}
	if (!cfg_path)
		return cli_usage_error("plan", "--live needs --config FILE (it names the cluster)");
	int status = EXIT_FAIL;
	agent_ctx ctx;
	cli_pass cp = {0};
	deploy_pass pass = {0};
	/* keep_live: the diff shows the live objects */
	agent_pass_opts po = {.verb = "plan", .manifests = manifests, .read_only = true, .keep_live = true};
	agent_pass_result r;
	if (agent_ctx_open("plan", cfg_path, &ctx) < 0)
		goto cleanup;
	agent_pass_run(&ctx, &po, &cp, &pass, &r);
	if (r.status != EXIT_OK)
		goto cleanup;
	const config *cfg = cp.cfg;
	refine_states(cfg, cp.live, &pass, max_age_ms);

	size_t changes = 0;
	fo_buf out = FO_BUF_INIT;
	bool md_out = strcmp(format, "markdown") == 0;
	if (strcmp(format, "json") == 0 || strcmp(format, "yaml") == 0) {
		cJSON *o = deploy_pass_json(&pass);
		if (strcmp(format, "yaml") == 0) {
			fo_yaml_emit(&out, o);
		} else {
			char *s = cJSON_Print(o);
			fo_buf_printf(&out, "%s\n", s);
			free(s);
		}
		cJSON_Delete(o);
		for (size_t i = 0; i < pass.n; i++)
			changes += item_changes(&pass.items[i]);
		changes += plain_changes(&pass.plain);
	} else {
		if (md_out)
			fo_buf_puts(&out, "## flinkops plan (against the cluster)\n\n");
		for (size_t i = 0; i < pass.n; i++) {
			print_rolled_back(cp.live, &pass.items[i], md_out, &out);
			if (!item_changes(&pass.items[i]))
				continue;
			changes++;
			print_item(&pass.items[i], cfg->agent.name, md_out, &out);
		}
		if (pass.prune_refused)
			fo_buf_printf(&out, "prune would be refused: %s\n", pass.prune_reason);
		fo_buf_printf(&out, "%zu of %zu deployment%s would change\n", changes, pass.n, pass.n == 1 ? "" : "s");
		size_t nobjs = plain_changes(&pass.plain);
		for (size_t i = 0; i < pass.plain.n; i++) {
			const deploy_plain_action *a = &pass.plain.v[i];
			if (a->op == DEPLOY_PLAIN_KEEP)
				continue;
			fo_buf_printf(&out, "%s%s %s/%s: %s", md_out ? "- " : "", a->kind->kind, a->ns, a->name,
				      deploy_plain_op_name(a->op));
			if (a->refused)
				fo_buf_printf(&out, ", kept: %s", a->why);
			else if (a->why)
				fo_buf_printf(&out, " (%s)", a->why);
			fo_buf_puts(&out, "\n");
		}
		if (nobjs)
			fo_buf_printf(&out, "%zu ServiceAccount, Role or RoleBinding change%s\n", nobjs, nobjs == 1 ? "" : "s");
		changes += nobjs;
	}
	fwrite(fo_buf_cstr(&out), 1, out.len, stdout);
	fo_buf_free(&out);
	status = changes ? EXIT_CHANGES : EXIT_OK;

cleanup:
	deploy_pass_free(&pass);
	cli_pass_close(&cp);
	agent_ctx_close(&ctx);
	return status;
}
