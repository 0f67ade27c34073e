/*
 * The daemon (`flinkops agent`): its pure pieces — when the next pass runs,
 * where to listen, whether a webhook is genuine and asks for a pass, the
 * metrics and their Prometheus text — and the I/O around them: the loop
 * (loop.c) and the HTTP endpoint (http.c). The pure pieces are table-tested
 * in tests/unit/test_daemon.c; the rest is covered by tests/e2e/test_agent.sh.
 */
#ifndef AGENT_DAEMON_H
#define AGENT_DAEMON_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "deploy/deploy.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fence.h"

/* ---- schedule (schedule.c, pure) ---- */

typedef struct agent_sched {
	int64_t interval_ms;      /* repository.interval */
	int64_t retry_initial_ms; /* agent.retryInitial: the first delay after a failed pass */
	int64_t retry_max_ms;     /* agent.retryMax: the cap of the doubling */
	int64_t waiting_ms;       /* the next look when deployments wait on Flink */
} agent_sched;

/* The longest pause before a deployment that waits on Flink is looked at
 * again, and the first one: a wait starts at AGENT_WAIT_FIRST_MS and
 * doubles while nothing moves (agent_wait_delay_ms). */
#define AGENT_WAITING_MS 3000
#define AGENT_WAIT_FIRST_MS 100
/* ±5% of the interval, so that many agents started together drift apart. */
#define AGENT_JITTER 0.05

/*
 * The delay before the next pass. `jitter` is a uniform draw in [-1, 1]
 * (the caller's random source, so that this stays testable); `failures`
 * counts the passes in a row that could not complete (0 after a complete
 * one); `wait_ms` is agent_wait_delay_ms's answer when the last pass left
 * deployments waiting on Flink or the cluster, else 0. After failures:
 * retry_initial doubled per failure up to retry_max, with the jitter.
 * Otherwise wait_ms when waiting, else the interval with the jitter.
 * Never below 1 ms.
 */
int64_t agent_next_delay_ms(const agent_sched *s, double jitter, unsigned failures, int64_t wait_ms);

/*
 * How many passes in a row have waited on the same thing: 0 when the last
 * pass did not wait or something was recorded since the pass before
 * (`progress` is agent_pass_result.progress, which changes with every
 * journal written), else `streak` + 1 (saturating).
 */
unsigned agent_wait_streak(unsigned streak, bool was_waiting, uint64_t last_progress, uint64_t progress);

/*
 * The pause before waiting deployments are looked at again: a savepoint,
 * a pod start or a job's first checkpoint can end any moment, so the look
 * comes soon after it can have changed — AGENT_WAIT_FIRST_MS, doubled per
 * pass of the streak that changed nothing, up to `cap_ms` (AGENT_WAITING_MS
 * in the agent, 1 s in sync --once). Never less than twice the last pass's
 * own duration `pass_ms` (within the cap): a fleet whose pass takes a
 * second is not re-read back to back for one deployment's wait.
 */
int64_t agent_wait_delay_ms(unsigned streak, int64_t pass_ms, int64_t cap_ms);

/* Why a pass runs. */
enum agent_trigger { AGENT_TRIGGER_START, AGENT_TRIGGER_INTERVAL, AGENT_TRIGGER_WEBHOOK, AGENT_TRIGGER_WAITING,
		     AGENT_TRIGGER_RETRY, AGENT_TRIGGER_ELECTED, AGENT_TRIGGER_WATCH, AGENT_NTRIGGERS };
/* "start", "interval", "webhook", "waiting", "retry", "elected", "watch": for the log. */
const char *agent_trigger_name(enum agent_trigger t);

/*
 * Whether a pass fetches the repository, or reads the manifests again at
 * the commit the last fetch read (no network). Only a re-check of
 * deployments waiting on Flink skips the fetch, and only while there is a
 * fetched commit (`have_commit`) and less than `interval_ms` has passed
 * since that fetch (`since_fetch_ms`): a push is still seen within an
 * interval however long a rollout waits. A watch event's pass (someone
 * changed a managed object) is such a re-check too. A webhook, the first
 * pass and a retry after a failed pass always fetch.
 */
bool agent_pass_fetches(enum agent_trigger t, bool have_commit, int64_t since_fetch_ms, int64_t interval_ms);

/* A webhook's pass waits this long for the rest of a burst (a push of
 * several branches, a provider's retries) so that they make one pass... */
#define AGENT_DEBOUNCE_MS 500
/* ...and starts no sooner than this after the previous pass ended. */
#define AGENT_MIN_GAP_MS 1000
/* A watch event's pass waits this long for the events that come with it
 * (a kubectl apply of several objects), and as long after the last pass as
 * a webhook's. */
#define AGENT_WATCH_DEBOUNCE_MS 100

/* What the loop knows when it decides whether a pass starts (agent_wake_decide). */
typedef struct agent_wake {
	int64_t now;
	int64_t next_at;             /* the scheduled pass: the interval's, a re-check's or the backoff's retry */
	enum agent_trigger next_why; /* why the scheduled pass runs */
	bool requested;              /* a webhook asked for a pass... */
	int64_t requested_at;        /* ...first at this time */
	bool changed;                /* a watch saw someone change a managed object... */
	int64_t changed_at;          /* ...first at this time */
	int64_t last_end;            /* when the previous pass ended */
	unsigned failures;           /* passes in a row that could not complete: next_at is the backoff's */
	bool elected;                /* this replica has just acquired the Lease */
} agent_wake;

/*
 * Whether a pass starts now. True with *why set; else false with *at, the
 * time to decide again (the scheduled pass or a webhook's, the earlier).
 * A replica just elected starts at once. A webhook's pass starts
 * AGENT_DEBOUNCE_MS after the first request and at least AGENT_MIN_GAP_MS
 * after the previous pass — and, after passes that could not complete, not
 * before the backoff's retry: a webhook may bring a fetch forward, never
 * add load to a server that is failing (a replayed or a flood of signed
 * requests would otherwise force a pass a second). A watch event's pass
 * follows the same rules with AGENT_WATCH_DEBOUNCE_MS; a webhook's, which
 * fetches, is preferred when both are due. Pure.
 */
bool agent_wake_decide(const agent_wake *w, enum agent_trigger *why, int64_t *at);

/* What bounds the time the daemon may go without a sign of progress
 * (agent_health_budget_ms): every figure is the longest one call or wait
 * can last with nothing moving, as configured or as its default is. */
typedef struct agent_health_bounds {
	int64_t loop_wait_ms;      /* the loop's longest sleep before it beats (AGENT_HEARTBEAT_MS) */
	int64_t kubernetes_ms;     /* kubernetes.timeout: one API request */
	int64_t git_ms;            /* repository.timeout: one fetch or push, in a worker process */
	int64_t flink_call_ms;     /* one Flink REST call (its default, or kubernetes.timeout with leader election) */
	int64_t jar_connect_ms;    /* a jar download's connect... */
	int64_t jar_stall_ms;      /* ...and how long it may receive nothing (a download that moves beats) */
	int64_t upload_stall_ms;   /* how long a jar's upload may send nothing */
	int64_t run_ms;            /* a jar's run: Flink answers when the jar's main() has run */
} agent_health_bounds;

/* The loop shows it is alive at least this often while it sleeps. */
#define AGENT_HEARTBEAT_MS 5000
/* Local work between two calls (parsing, rendering, journals, the cache's
 * upkeep) with nothing to mark progress. */
#define AGENT_HEALTH_SLACK_MS (60 * 1000)
/* A git worker may take this much past repository.timeout before it is killed. */
#define AGENT_GIT_GRACE_MS 2000
/* The longest pause between two attempts of a status push. */
#define AGENT_GIT_BACKOFF_MS 5000

/*
 * How old the last sign of progress may be before /healthz fails. Progress
 * is the loop's heartbeat (between passes) and, inside a pass, every answer
 * from the Kubernetes API or Flink, every byte of a jar moved and every git
 * worker that ended: so the budget need only cover the longest single
 * silence — the largest of the loop's sleep, one API request, one git
 * worker (repository.timeout + AGENT_GIT_GRACE_MS, and a push's backoff),
 * one Flink call, a download's connect or stall, an upload's stall and a
 * jar's run — plus AGENT_HEALTH_SLACK_MS. It does not grow with the
 * interval (the loop beats while it sleeps) nor with a jar's size (a
 * download that moves is alive). Pure.
 */
int64_t agent_health_budget_ms(const agent_health_bounds *b);

/*
 * Parse agent.listen: "HOST:PORT", ":PORT" (every interface), "[V6]:PORT".
 * HOST is a numeric address (names are not resolved: the agent binds
 * exactly what it is told); PORT 0 asks the kernel for a free port.
 */
int agent_listen_parse(const char *s, struct sockaddr_storage *addr, socklen_t *len, fo_err *e);
/* The same for another listen setting: errors name `key` (agent.probeListen). */
int agent_listen_parse_as(const char *key, const char *s, struct sockaddr_storage *addr, socklen_t *len, fo_err *e);
/*
 * agent.probeListen when it is not set: agent.listen's address with the
 * next port (:8080 gives :8081), port 0 stays 0 (the kernel picks both). A
 * listen port of 65535 has no next: then probeListen must be set. Pure.
 */
int agent_probe_listen_default(const struct sockaddr_storage *listen, struct sockaddr_storage *out, fo_err *e);

/* ---- webhooks (webhook.c, pure) ---- */

enum agent_provider { AGENT_HOOK_UNKNOWN, AGENT_HOOK_GITHUB, AGENT_HOOK_GITEA, AGENT_HOOK_GITLAB, AGENT_HOOK_GENERIC,
		      AGENT_HOOK_NPROVIDERS };
const char *agent_provider_name(enum agent_provider p);

/* The request's header `name` (case-insensitive), or NULL. */
typedef const char *(*agent_header_fn)(void *arg, const char *name);

/* What identifies a delivery in the table: digests of its id and of its
 * body, each when it counts (see agent_seen_check, below). */
typedef struct agent_seen_keys {
	unsigned char id[32], body[32];
	bool has_id, has_body;
} agent_seen_keys;

typedef struct agent_hook_verdict {
	enum agent_provider provider;
	int code;          /* the HTTP status to answer: 202, 200, 400, 401 */
	bool pass;         /* a genuine push to the branch: request a pass */
	const char *why;   /* a static phrase for the answer and the log; never the secret */
	bool relay;        /* a standby: record the request on the Lease, then agent_webhook_relayed */
	agent_seen_keys keys; /* with relay: the delivery's keys, for the Lease and the leader */
} agent_hook_verdict;

/*
 * Decide on a webhook. The provider is told by its headers; its signature
 * — an HMAC-SHA256 of the raw body with `secret` (GitHub's
 * X-Hub-Signature-256: sha256=HEX, Gitea's and Forgejo's X-Gitea-Signature
 * / X-Forgejo-Signature: HEX, X-Flinkops-Signature-256: sha256=HEX) or
 * GitLab's X-Gitlab-Token equal to the secret — is checked in constant
 * time before the body is parsed. SHA-1 (X-Hub-Signature alone) is
 * refused. Then the event (a ping or any event but a push answers 200) and
 * the branch: a push whose "ref" is refs/heads/`branch` is 202 with pass
 * set; another branch is 200.
 */
void agent_webhook_check(const char *secret, size_t secret_len, const char *branch, agent_header_fn header, void *arg,
			 const char *body, size_t len, agent_hook_verdict *v);

/* The id a provider gives a delivery, the same when it retries it: GitHub's
 * X-GitHub-Delivery, Gitea's X-Gitea-Delivery (Forgejo's X-Forgejo-Delivery),
 * GitLab's Idempotency-Key, else its X-Gitlab-Event-UUID; the generic
 * X-Flinkops-Delivery. NULL when the request has none. */
const char *agent_webhook_delivery(enum agent_provider p, agent_header_fn header, void *arg);

/* The deliveries acted on lately: a fixed ring of digests, so that its
 * memory is bounded whatever is sent; the oldest make room for new ones. */
#define AGENT_SEEN_MAX 512
#define AGENT_SEEN_WINDOW_MS (10 * 60 * 1000)
typedef struct agent_seen {
	struct agent_seen_entry {
		unsigned char key[32]; /* SHA-256 of what identifies the delivery */
		int64_t at;            /* when it was recorded; 0 with !used */
		bool used;
	} v[AGENT_SEEN_MAX];
	size_t next; /* the slot the next record takes */
} agent_seen;

void agent_seen_keys_make(enum agent_provider p, const char *delivery, const char *body, size_t len,
			  agent_seen_keys *k);
/* Whether `k` was recorded within the window before `now` (either key);
 * when not and `record`, it is recorded at `now`. Pure but for `s`. */
bool agent_seen_known(agent_seen *s, const agent_seen_keys *k, int64_t now, bool record);

/*
 * Whether a delivery was acted on within AGENT_SEEN_WINDOW_MS before `now`
 * (true: a duplicate); when not, it is recorded at `now`. A delivery is
 * known by its id (`delivery`, may be NULL) and, for GitHub, Gitea and
 * GitLab, by its body too: the id is a header no signature covers, so a
 * replay with a new id is still the same push (before, after, commits). The
 * generic provider's body may be the same for every request ({} asks for
 * a pass), so only its id counts. Pure but for `s`.
 */
bool agent_seen_check(agent_seen *s, enum agent_provider p, const char *delivery, const char *body, size_t len,
		      int64_t now);

/* What this replica may do with a push. */
enum agent_role {
	AGENT_ROLE_ACTS,     /* it runs passes: the leader, or the only replica */
	AGENT_ROLE_STANDBY,  /* leader election on and the Lease not held by it */
	AGENT_ROLE_STOPPING, /* SIGTERM: no pass starts any more */
};

/*
 * Settle the answer to a webhook judged `v` (agent_webhook_check) by what
 * this replica may do. A push acted on (or relayed) within the window
 * (agent_seen_check) becomes 200 "already seen" and asks for nothing. On a
 * replica that acts, any other is recorded and asks for a pass. On a
 * standby it is not recorded yet: v->relay is set with the delivery's keys
 * (the caller records the request on the Lease for the leader, and settles
 * with agent_webhook_relayed). On a replica shutting down it is 503 — never
 * a 202 that drops it: the sender sees a failed delivery and may redeliver
 * (behind a Service, possibly to the leader), and is not recorded. Everything
 * that asks for no pass (a ping, a 401) is left as it is. Pure but for `seen`.
 */
void agent_webhook_answer(agent_hook_verdict *v, enum agent_role role, agent_seen *seen, const char *delivery,
			  const char *body, size_t len, int64_t now);
/*
 * Settle a relayed push (v->relay): `recorded` (the Lease carries the
 * request): 202, and the delivery is recorded as seen; else 503 (the
 * caller adds Retry-After), not recorded, so that a redelivery is tried
 * again. Pure but for `seen`.
 */
void agent_webhook_relayed(agent_hook_verdict *v, bool recorded, agent_seen *seen, int64_t now);

/*
 * The value of the Lease's annotation AGENT_SYNC_ANNOTATION (leader.h)
 * for a delivery: its keys and the wall time, "i<hex|->.b<hex|->.<unix
 * ms>", so that each delivery writes a new value and the leader can tell
 * one it already acted on (agent_sync_keys). Caller frees.
 */
char *agent_sync_value(const agent_seen_keys *k, int64_t wall_ms);
/* The keys of a value agent_sync_value made; false (k empty) for any other text. */
bool agent_sync_keys(const char *value, agent_seen_keys *k);
/*
 * Whether the elector asks for a pass on reading the annotation `observed`
 * (NULL: none): only while `leading`, and only for a value other than the
 * one it last acted on (`acted`, NULL: none). Pure.
 */
bool agent_sync_wake(bool leading, const char *acted, const char *observed);

/* What /readyz looks at. */
typedef struct agent_ready_view {
	bool api_ready;  /* a pass, or the loop's own probe, had an answer from the Kubernetes API */
	bool electing;   /* leader election is on */
	bool lease_seen; /* the elector has read or written the Lease: the API answers this replica */
} agent_ready_view;

/*
 * Whether the replica is Ready: its configuration is loaded and its
 * endpoint up (else nobody asks), and the Kubernetes API has answered it
 * once — through a pass, or, with leader election, through the Lease, which
 * a standby reads every retryPeriod although it runs no pass. Leadership is
 * no part of it (as controller-runtime's managers, Flux's and Argo CD's,
 * keep a standby Ready), so that a rolling update of two replicas and a
 * PodDisruptionBudget never wait on a replica that cannot become leader
 * until the other goes. False sets *why, a static phrase. Pure.
 */
bool agent_ready(const agent_ready_view *v, const char **why);

/* ---- metrics (metrics.c; formatting is pure) ---- */

#define AGENT_HIST_MAX 16
typedef struct agent_hist {
	const double *bounds;      /* upper bounds, increasing; +Inf is implicit */
	size_t nbounds;
	uint64_t counts[AGENT_HIST_MAX]; /* per bucket, not cumulative; [nbounds] is above the last bound */
	uint64_t count;
	double sum;
} agent_hist;
void agent_hist_observe(agent_hist *h, double v);

enum agent_pass_outcome { AGENT_PASS_SUCCESS, AGENT_PASS_FAILED, AGENT_PASS_ERROR, AGENT_PASS_NOUTCOMES };
enum agent_kind { AGENT_KIND_CONFIGMAP, AGENT_KIND_SERVICE, AGENT_KIND_STATEFULSET, AGENT_KIND_INGRESS, AGENT_NKINDS };
/* The webhook answers counted, each a label value. */
#define AGENT_HOOK_CODES {200, 202, 400, 401, 403, 405, 413, 503, 500}
#define AGENT_NHOOK_CODES 9

/* One deployment's own series: how long its savepoints and its upgrades
 * took. A series exists from a deployment's first observation until it is
 * gone from git, so their number is bounded by the deployments. */
typedef struct agent_deploy_series {
	char *ns, *name;
	agent_hist savepoint_seconds; /* a stop's trigger -> Flink says COMPLETED */
	agent_hist upgrade_seconds;   /* an upgrade's first step -> the new job RUNNING */
	/* the last pass left it waiting at journal step `wait_step` (static),
	 * for `wait_seconds` so far; NULL: not waiting (or for how long unknown) */
	const char *wait_step;
	double wait_seconds;
	bool seen;                    /* scratch for agent_metric_rollouts */
} agent_deploy_series;

typedef struct agent_metric_values {
	const char *version, *revision;
	uint64_t passes[AGENT_PASS_NOUTCOMES];
	agent_hist pass_seconds, fetch_seconds;
	double last_success;       /* Unix time of the last pass that completed without failure; 0: none */
	uint64_t applied[AGENT_NKINDS][2]; /* [kind][0 success, 1 error] */
	uint64_t rollouts_in_progress;
	uint64_t hooks[AGENT_HOOK_NPROVIDERS][AGENT_NHOOK_CODES];
	unsigned consecutive_failures;
	unsigned leader;             /* 1 while this replica may act (always, without leader election) */
	uint64_t leader_transitions; /* leadership acquired, lost or released */
	uint64_t upgrade_failures[DEPLOY_NFAILURES]; /* by deploy_failure; [DEPLOY_FAILURE_NONE] unused */
	uint64_t rollbacks; /* rollbacks started: a failed upgrade's previous spec journaled to run again */
	/* blue/green switches recorded, by how they ended: [0] cut over, [1]
	 * aborted (the new colour removed), [2] cancelled (git went back) */
	uint64_t bg_switches[3];
	agent_hist bg_switch_seconds; /* a transition's start -> its cut-over */
	agent_deploy_series *deps;   /* owned; sorted by namespace, then name */
	size_t ndeps;
} agent_metric_values;

/* What the blue/green engine recorded in a pass (`bg`, the pass's
 * deploy_bg_pass): its cut-overs, aborts and cancels, and how long each
 * cut-over's transition took. */
struct deploy_bg_pass;
void agent_metric_bluegreen(agent_metric_values *v, const struct deploy_bg_pass *bg);
/* Empty values with the histograms' bounds set. */
void agent_metric_values_init(agent_metric_values *v, const char *version, const char *revision);
/* Free the per-deployment series; `v` is empty afterwards. */
void agent_metric_values_free(agent_metric_values *v);
/*
 * What a pass's rollouts finished: each item's completed savepoint and
 * upgrade into its deployment's histograms, each failed step into the
 * failures by reason; how long each waiting deployment has waited (the
 * age a status file never shows). With `complete` (the pass read every manifest and
 * planned every deployment in git), the series of deployments that are no
 * longer in git are dropped. Pure.
 */
void agent_metric_rollouts(agent_metric_values *v, const deploy_pass *p, bool complete);
/* Count one webhook answer. */
void agent_metric_hook(agent_metric_values *v, enum agent_provider p, int code);
/* The Prometheus text exposition format 0.0.4 of `v`. Pure. */
void agent_metrics_format(const agent_metric_values *v, fo_buf *out);

/* ---- the running daemon (loop.c, http.c) ---- */

/* What the loop and the HTTP thread share; everything under `lock`. */
typedef struct agent_state {
	pthread_mutex_t lock;
	pthread_cond_t cond;       /* signalled on a request for a pass and on stop */
	atomic_bool stop;          /* SIGTERM/SIGINT: no new pass or deployment starts */
	bool requested;            /* a webhook asked for a pass */
	int64_t requested_at;      /* monotonic ms of the first request not yet served */
	bool changed;              /* a watch saw a managed object changed by someone else */
	int64_t changed_at;        /* monotonic ms of the first such change not yet served */
	bool running;              /* a pass is in flight */
	int64_t heartbeat;         /* monotonic ms the loop last showed progress */
	atomic_llong alive;        /* fo_mono_ms of a pass's last answer or byte moved (not under lock) */
	int64_t healthy_within;    /* /healthz fails when the heartbeat is older */
	bool api_ready;            /* the Kubernetes API answered a pass or the loop's probe once */
	bool lease_seen;           /* the elector has read or written the Lease once */
	int retry_after_s;         /* Retry-After of a push a standby cannot act on */
	agent_metric_values m;
	/* leader election (leader.h); fence NULL when it is off */
	const fo_fence *fence;     /* a pass runs only while it is held */
	bool leading;              /* the elector holds the Lease */
	bool elected;              /* ...and has just acquired it: run a pass at once */
	bool lease_lost;           /* it lost the Lease: stop is set, the agent exits AGENT_EXIT_LOST */
	int64_t lease_stale_ms;    /* /healthz fails while leading with the last renewal older than this */
	/* webhooks; the secret is read once at start and never printed */
	char *secret;
	size_t secret_len;
	const char *branch;
	agent_seen seen;           /* deliveries acted on lately: a replay starts nothing */
	/* a standby's relay of a push to the leader: the elector, while the
	 * HTTP thread may use it (NULL once it is being stopped), and the
	 * relays in progress (the elector is stopped when none is) */
	struct agent_elector *elector;
	unsigned relaying;
} agent_state;

/* The exit status of `flinkops agent` after it lost the Lease. */
#define AGENT_EXIT_LOST 3

/* fo_mono_ms(): the Lease's and the fence's clock (CLOCK_BOOTTIME). */
int64_t agent_mono_ms(void);
/* Ask for a pass (a webhook): coalesced with any already asked for. */
void agent_request_pass(agent_state *st);
/* A k8s_watch_notify for agent_state `arg`: a managed object changed
 * (drift, a deletion): a re-check pass, coalesced like a webhook's. */
void agent_watch_changed(void *arg, const k8s_kind *kind, const char *ns, const char *name, const char *type);

/* ---- the HTTP listeners' bounds (webhook.c, pure) ---- */

/* What to do with the bytes of a webhook's body as they arrive. */
enum agent_body_step {
	AGENT_BODY_TAKE,   /* keep them */
	AGENT_BODY_REFUSE, /* answer 413 before reading any: Content-Length is over the limit */
	AGENT_BODY_CLOSE,  /* drop the connection now: the body grew over the limit (chunked) */
};
/* `content_length` the header (NULL: none, a chunked upload), looked at on
 * the call with the headers only (`headers_only`); later calls bring `more`
 * bytes after `have`. Nothing beyond `max` is ever read: a request that
 * cannot be answered mid-body (libmicrohttpd queues a response only before
 * the body or after all of it) is cut off instead of read to its end. */
enum agent_body_step agent_body_step(const char *content_length, bool headers_only, uint64_t have, uint64_t more,
				     uint64_t max);
/* Whether a request that started at `start_ms` (its first byte, or the end
 * of the previous one on the connection) has run past `limit_ms` at `now_ms`. */
bool agent_request_expired(int64_t start_ms, int64_t now_ms, int64_t limit_ms);

typedef struct agent_http agent_http;
/* The listeners: `hook` serves POST /webhook (and, for setups that probe
 * it, /healthz /readyz /metrics too), `probe` serves only /healthz, /readyz
 * and /metrics, on a listener and thread of its own that no webhook client
 * can fill. */
typedef struct agent_http_opts {
	struct sockaddr_storage hook, probe;
	unsigned per_client;        /* connections per client address on `hook` */
	int64_t request_timeout_ms; /* a request's whole time, headers included */
	const char *tls_cert_file, *tls_key_file; /* PEM files; NULL: plain HTTP on `hook` */
} agent_http_opts;
/* Start both; *port and *probe_port get the ports bound. TLS files are read
 * here (bounded, checked to be a certificate and its key, errors name the
 * file) and the key is wiped once libmicrohttpd has loaded it. */
int agent_http_start(agent_state *st, const agent_http_opts *o, agent_http **out, int *port, int *probe_port,
		     fo_err *e);
void agent_http_stop(agent_http *h);

#endif
