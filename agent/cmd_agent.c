/*
 * `flinkops agent --config FILE`: the daemon. Passes on the interval and on
 * webhooks (loop.c), the HTTP endpoint in its own thread (http.c), and the
 * signals: SIGTERM or SIGINT asks the loop to stop — no new pass, no new
 * deployment; the step in flight finishes and is journaled — and a second
 * one exits at once. Signals are taken by one thread with sigwait, so no
 * handler runs in the middle of libcurl or libgit2.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "agent/cli.h"
#include "agent/daemon.h"
#include "agent/leader.h"
#include "agent/loop.h"
#include "flink/jar.h"
#include "flink/rest.h"
#include "lib/fs.h"
#include "lib/log.h"

static const char usage[] =
	"usage: flinkops agent --config FILE [--listen HOST:PORT] [--log-format text|json]\n"
	"\n"
	"Run passes until stopped: one every repository.interval (±5% jitter), one\n"
	"soon after a signed webhook, soon again while deployments wait on Flink\n"
	"(100 ms, doubling while nothing moves, up to 3 s),\n"
	"and after a pass that could not complete, again after agent.retryInitial\n"
	"doubling up to agent.retryMax. Serves on agent.probeListen (default: the\n"
	"port after agent.listen's) and, for setups that probe it, agent.listen:\n"
	"\n"
	"  GET  /healthz    200 while the loop makes progress\n"
	"  GET  /readyz     200 once the Kubernetes API has answered (a pass or the Lease)\n"
	"  GET  /metrics    Prometheus text format\n"
	"\n"
	"and on agent.listen (HTTPS with agent.tls.certFile and keyFile):\n"
	"\n"
	"  POST /webhook    GitHub, Gitea/Forgejo, GitLab or X-Flinkops-Signature-256\n"
	"                   (secret from agent.webhookSecretFile)\n"
	"\n"
	"  --config FILE         the agent's configuration (see docs/configuration.md)\n"
	"  --listen HOST:PORT    instead of agent.listen; port 0 picks a free port\n"
	"  --log-format FMT      text (default) or json: one JSON object a line with\n"
	"                        time, level, component, msg and, where known, pass,\n"
	"                        deployment, step, duration_ms (FLINKOPS_LOG_FORMAT)\n"
	"  -h, --help            this help\n"
	"\n"
	"SIGTERM or SIGINT: no new pass or rollout step starts; a fetch of the\n"
	"manifests, a jar's download, upload or run and a Flink call in flight end\n"
	"at once (\"interrupted by stop request\": the journal, written first, is as\n"
	"a crash there would leave it, and the next agent resumes from it; no\n"
	"failure is counted), a savepoint in progress is left to Flink (the next\n"
	"agent resumes it under the journaled trigger), retries and waits end at\n"
	"once, the status files are written, the Lease is released (with leader\n"
	"election), exit 0. Grace period: 120 s (one status push within\n"
	"repository.timeout, the Kubernetes calls within kubernetes.timeout); idle,\n"
	"it exits at once. A second signal exits at once (128 + the signal).\n"
	"/healthz fails when nothing has moved for longer than the longest single\n"
	"call or wait the configuration allows, plus 60 s (see docs/agent.md).\n"
	"\n"
	"Leader election (agent.leaderElection, on by default in a cluster): only the\n"
	"replica holding the Lease runs passes (a standby is Ready once it has read\n"
	"the Lease, and answers a signed push 503 with Retry-After); every write to\n"
	"the cluster and every Flink action is refused unless the Lease was renewed\n"
	"within renewDeadline.\n"
	"A leader that cannot renew in time, or finds another holder, stops at once\n"
	"and exits 3.\n"
	"\n"
	"Exit status: 0 after SIGTERM/SIGINT, 1 when it cannot start, 3 when it lost\n"
	"the Lease, 128 + the signal after a second signal.\n";

/* How long the daemon may go without a sign of progress before /healthz
 * fails (agent_health_budget_ms): from the configured timeouts and the
 * defaults of the calls that have none configured. */
static int64_t health_budget(const config *cfg)
{
	agent_health_bounds b = {
		.loop_wait_ms = AGENT_HEARTBEAT_MS,
		.kubernetes_ms = cfg->kubernetes.timeout_ms,
		.git_ms = cfg->repository.timeout_ms,
		/* with leader election, Flink calls are held to kubernetes.timeout (pass.c) */
		.flink_call_ms = cfg->agent.leader_election.enabled ? cfg->kubernetes.timeout_ms : FLINK_REST_TIMEOUT_MS,
		.jar_connect_ms = FLINK_JAR_CONNECT_TIMEOUT_MS,
		.jar_stall_ms = FLINK_JAR_STALL_TIMEOUT_MS,
		.upload_stall_ms = FLINK_REST_UPLOAD_STALL_MS,
		.run_ms = FLINK_REST_RUN_TIMEOUT_MS,
	};
	return agent_health_budget_ms(&b);
}

typedef struct signals {
	sigset_t set;
	agent_state *st;
	atomic_bool done;
} signals;

static void *signal_thread(void *arg)
{
	signals *s = arg;
	int first = 0;
	for (;;) {
		int sig = 0;
		if (sigwait(&s->set, &sig) != 0)
			continue;
		if (sig == SIGUSR1) {
			if (atomic_load(&s->done))
				return NULL; /* the daemon is ending: this thread too */
			continue;
		}
		if (first) {
			fo_warn("agent", "%s again: exiting now", sig == SIGTERM ? "SIGTERM" : "SIGINT");
			_exit(128 + sig);
		}
		first = sig;
		fo_info("agent", "%s: interrupting the transfer or wait in flight, then exiting", sig == SIGTERM ? "SIGTERM" : "SIGINT");
		pthread_mutex_lock(&s->st->lock);
		atomic_store(&s->st->stop, true);
		pthread_cond_broadcast(&s->st->cond);
		pthread_mutex_unlock(&s->st->lock);
	}
}

static int read_secret(const char *path, agent_state *st, fo_err *e)
{
	char *data = NULL;
	size_t len = 0;
	int rc = fo_fs_read(path, 64 * 1024, &data, &len, e);
	if (rc < 0)
		return fo_err_prefix(e, "agent.webhookSecretFile");
	while (len && (data[len - 1] == '\n' || data[len - 1] == '\r' || data[len - 1] == ' '))
		data[--len] = '\0';
	if (!len) {
		free(data);
		return fo_err_set(e, FO_EINVAL, "agent.webhookSecretFile %s is empty", path);
	}
	st->secret = data;
	st->secret_len = len;
	return 0;
}

static void describe(const struct sockaddr_storage *a, int port, fo_buf *out)
{
	char host[INET6_ADDRSTRLEN] = "?"; /* INET6_ADDRSTRLEN holds any address */
	if (a->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)a)->sin6_addr, host, sizeof(host));
		fo_buf_printf(out, "[%s]:%d", host, port);
	} else {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)a)->sin_addr, host, sizeof(host));
		fo_buf_printf(out, "%s:%d", host, port);
	}
}

/* Take the elector away from the HTTP thread and wait for the relays in
 * progress (each bounded): then it may be stopped and freed. */
static void elector_detach(agent_state *st)
{
	pthread_mutex_lock(&st->lock);
	st->elector = NULL;
	while (st->relaying)
		pthread_cond_wait(&st->cond, &st->lock);
	pthread_mutex_unlock(&st->lock);
}

static const struct option options[] = {
	{"config", required_argument, NULL, 'c'},
	{"listen", required_argument, NULL, 'l'},
	{"log-format", required_argument, NULL, 'f'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

const cli_verb cli_verb_agent = {
	.name = "agent",
	.run = cmd_agent,
	.optstring = "h",
	.options = (const struct option *const[]){options, NULL},
};

int cmd_agent(int argc, char **argv)
{
	const char *cfg_path = NULL, *listen = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, cli_verb_agent.optstring, options, NULL)) != -1) {
		switch (c) {
		case 'c': cfg_path = optarg; break;
		case 'l': listen = optarg; break;
		case 'f':
			if (cli_log_format(optarg, "--log-format") < 0)
				return EXIT_FAIL;
			break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: return cli_usage_error("agent", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage_error("agent", "unexpected argument \"%s\"", argv[optind]);
	if (!cfg_path)
		return cli_usage_error("agent", "give --config FILE");

	int status = EXIT_FAIL;
	agent_ctx ctx;
	fo_err e = FO_ERR_INIT;
	agent_state st;
	memset(&st, 0, sizeof(st));
	pthread_mutex_init(&st.lock, NULL);
	fo_mono_cond_init(&st.cond);
	atomic_init(&st.stop, false);
	agent_metric_values_init(&st.m, FO_VERSION, FO_GIT_REV);
	agent_http *http = NULL;
	agent_elector *elector = NULL;
	k8s_watcher *watcher = NULL;
	fo_fence fence;
	signals sigs;
	memset(&sigs, 0, sizeof(sigs));
	sigs.st = &st;
	atomic_init(&sigs.done, false);
	pthread_t sig_th;
	bool sig_started = false;
	sigset_t old;

	/* the configuration is read once, here: a mistake stops the start with
	 * file:line:col, and a changed file takes effect at the next start */
	if (agent_ctx_open("agent", cfg_path, &ctx) < 0)
		goto cleanup;
	const config *cfg = ctx.cfg;
	agent_http_opts hopts;
	memset(&hopts, 0, sizeof(hopts));
	socklen_t alen;
	if (agent_listen_parse(listen ? listen : cfg->agent.listen, &hopts.hook, &alen, &e) < 0)
		goto fail;
	if (cfg->agent.probe_listen && *cfg->agent.probe_listen
		    ? agent_listen_parse_as("agent.probeListen", cfg->agent.probe_listen, &hopts.probe, &alen, &e) < 0
		    : agent_probe_listen_default(&hopts.hook, &hopts.probe, &e) < 0)
		goto fail;
	hopts.per_client = (unsigned)cfg->agent.max_connections_per_client;
	hopts.request_timeout_ms = cfg->agent.request_timeout_ms;
	if (cfg->agent.tls.cert_file && *cfg->agent.tls.cert_file) {
		hopts.tls_cert_file = cfg->agent.tls.cert_file;
		hopts.tls_key_file = cfg->agent.tls.key_file;
	}
	if (cfg->agent.webhook_secret_file && read_secret(cfg->agent.webhook_secret_file, &st, &e) < 0)
		goto fail;
	if (!st.secret)
		fo_warn("agent", "no agent.webhookSecretFile: webhooks are refused (401), passes run on the interval only");
	st.branch = cfg->repository.branch;
	st.heartbeat = agent_mono_ms();
	st.healthy_within = health_budget(cfg);
	atomic_init(&st.alive, 0);
	/* a push refused by a standby or while stopping: by then another
	 * replica may have taken over (leaseDuration + 2 retryPeriods at most) */
	st.retry_after_s = (int)((cfg->agent.leader_election.lease_duration_ms +
				  2 * cfg->agent.leader_election.retry_period_ms + 999) / 1000);
	agent_sched sched = {cfg->repository.interval_ms, cfg->agent.retry_initial_ms, cfg->agent.retry_max_ms,
			     AGENT_WAITING_MS};
	if (cfg->agent.leader_election.enabled) {
		fo_fence_init(&fence, cfg->agent.leader_election.renew_deadline_ms);
		st.fence = &fence;
		ctx.fence = &fence; /* the passes' client and Flink calls */
		/* by then a working elector has declared the loss itself */
		st.lease_stale_ms = cfg->agent.leader_election.renew_deadline_ms + cfg->kubernetes.timeout_ms + 1000;
	} else {
		st.m.leader = 1; /* the only replica: it always acts */
	}

	/* Every thread started from here on inherits the blocked signals; only
	 * the signal thread takes them. A write to a closed socket is an error
	 * return, not a death. */
	sigemptyset(&sigs.set);
	sigaddset(&sigs.set, SIGTERM);
	sigaddset(&sigs.set, SIGINT);
	sigaddset(&sigs.set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &sigs.set, &old);
	signal(SIGPIPE, SIG_IGN);
	if (pthread_create(&sig_th, NULL, signal_thread, &sigs) != 0) {
		fo_err_set(&e, FO_EIO, "cannot start the signal thread");
		goto fail;
	}
	sig_started = true;

	int port = 0, probe_port = 0;
	if (agent_http_start(&st, &hopts, &http, &port, &probe_port, &e) < 0)
		goto fail;
	fo_buf where = FO_BUF_INIT, probes = FO_BUF_INIT;
	describe(&hopts.hook, port, &where);
	describe(&hopts.probe, probe_port, &probes);
	fo_info("agent",
		"flinkops %s listening on %s (%sPOST /webhook /healthz /readyz /metrics); probes on %s (/healthz "
		"/readyz /metrics); interval %.0f s; /healthz fails after %.0f s without progress",
		FO_VERSION, fo_buf_cstr(&where), hopts.tls_cert_file ? "HTTPS: " : "", fo_buf_cstr(&probes),
		(double)cfg->repository.interval_ms / 1000.0, (double)st.healthy_within / 1000.0);
	fo_buf_free(&where);
	fo_buf_free(&probes);

	if (st.fence && agent_elector_start(cfg, &st, &fence, &elector, &e) < 0)
		goto fail;
	pthread_mutex_lock(&st.lock);
	st.elector = elector; /* a standby relays pushes through it */
	pthread_mutex_unlock(&st.lock);

	/* The watched inventory: the passes' LISTs are registered as they
	 * are made, and each is watched from then on (k8s/watch.c), so that a
	 * pass that changes nothing sends nothing, and someone's edit of a
	 * managed object starts a pass at once. Every replica watches: a
	 * standby that takes over has its inventory already. */
	ctx.inventory = k8s_cache_new();
	k8s_client *watch_tmpl = NULL;
	if (cli_k8s_connect(cfg, NULL, &watch_tmpl, &e) < 0 ||
	    k8s_watcher_start(ctx.inventory, watch_tmpl, agent_watch_changed, &st, &watcher, &e) < 0) {
		fo_warn("agent", "no watches (%s): every pass lists what it manages", fo_err_msg(&e));
		fo_err_clear(&e);
	}
	k8s_client_free(watch_tmpl);

	agent_loop_run(&st, &ctx, &sched);
	k8s_watcher_stop(watcher);
	watcher = NULL;
	/* the loop has stopped: nothing writes any more, the Lease may go */
	elector_detach(&st);
	agent_elector_stop(elector, true);
	elector = NULL;
	if (st.lease_lost) {
		fo_error("agent", "stopped: the Lease was lost (exit %d)", AGENT_EXIT_LOST);
		status = AGENT_EXIT_LOST;
	} else {
		fo_info("agent", "stopped");
		status = EXIT_OK;
	}
	goto cleanup;
fail:
	cli_report("agent", "%s", fo_err_msg(&e));
cleanup:
	k8s_watcher_stop(watcher);
	elector_detach(&st);
	agent_elector_stop(elector, false);
	agent_http_stop(http);
	if (sig_started) {
		atomic_store(&sigs.done, true);
		pthread_kill(sig_th, SIGUSR1);
		pthread_join(sig_th, NULL);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	if (st.secret) {
		OPENSSL_cleanse(st.secret, st.secret_len); /* not left in freed memory */
		free(st.secret);
	}
	agent_metric_values_free(&st.m);
	pthread_cond_destroy(&st.cond);
	pthread_mutex_destroy(&st.lock);
	agent_ctx_close(&ctx);
	fo_err_clear(&e);
	return status;
}
