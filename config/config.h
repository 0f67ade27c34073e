/*
 * The agent's own configuration: one YAML file, every field overridable by
 * an environment variable named after its path (repository.passwordFile is
 * FLINKOPS_REPOSITORY_PASSWORD_FILE). Secrets are never in the file itself:
 * only the paths of files that hold them; a URL setting that carries them
 * (user:password@ in repository.url, any user info in flink.restUrl or
 * flink.s3Endpoint) is refused. Errors are file:line:col.
 *
 * Bounds: names that go into API paths are Kubernetes names
 * (kubernetes.namespace, agent.leaderElection.namespace: DNS-1123 labels;
 * agent.leaderElection.leaseName, and agent.name when it names the Lease:
 * DNS-1123 subdomains); repository.interval and every timeout at least 1s,
 * agent.retryInitial at least 100ms, agent.retryMax at least retryInitial.
 *
 *   repository:   url, branch (main), path (""), glob (*.yaml), interval (1m),
 *                 cacheDir, username, passwordFile, caFile, sshKeyFile,
 *                 knownHostsFile, acceptUnknownHostKey (false), timeout (60s)
 *   status:       enabled (true), branch (the synced branch), folder (status),
 *                 authorName (flinkops), authorEmail (flinkops@localhost)
 *   kubernetes:   inCluster (false), kubeconfig, context, fieldManager (flinkops),
 *                 forceConflicts (true), timeout (30s), namespace (default),
 *                 concurrency (4: deployments applied at once), namespaces
 *                 (the namespaces it manages, a list or "a,b"; empty: all —
 *                 a FlinkDeployment elsewhere is an error, and only these
 *                 are listed, so RBAC may grant only these)
 *   flink:        submitJobs (true: run the jobs; false: objects only),
 *                 restUrl (http://{name}-rest.{namespace}.svc:8081),
 *                 jarCacheDir (/var/cache/flinkops/jars), jarCacheMaxSize (1g: least
 *                 recently used jars beyond it are removed), s3Endpoint, s3Region,
 *                 s3AccessKeyFile, s3SecretKeyFile (else AWS_* variables), caFile,
 *                 savepointTimeout (10m), readyTimeout (5m), runningTimeout (5m),
 *                 restartBudget (3: restarts of a failed job from its newest checkpoint)
 *   prune:        enabled (true), maxDeleteRatio (0.5)
 *   agent:        name (flinkops: labels every object this agent applies, so
 *                 that two agents never prune each other's), listen (:8080),
 *                 webhookSecretFile, retryInitial (5s), retryMax (5m),
 *                 probeListen (/healthz /readyz /metrics on a listener of
 *                 their own; default the port after listen's, port 0 stays 0),
 *                 maxConnectionsPerClient (8 of the 64 webhook connections per
 *                 client address), requestTimeout (30s: a webhook request's
 *                 whole time, headers included, at least 1s)
 *     tls:        certFile, keyFile (PEM, both or neither: listen serves HTTPS)
 *     leaderElection: (`flinkops agent` only; client-go's semantics)
 *                 enabled (default: kubernetes.inCluster, so that replicas in
 *                 a cluster never act together unless told to),
 *                 leaseName (agent.name), namespace (the pod's namespace in a
 *                 cluster, else kubernetes.namespace), identity ($POD_NAME,
 *                 else the host name, "_" and a random suffix), leaseDuration
 *                 (15s), renewDeadline (10s), retryPeriod (2s). Refused:
 *                 a value not above zero, leaseDuration <= renewDeadline,
 *                 renewDeadline <= 1.2 * retryPeriod (client-go's checks),
 *                 retryPeriod under 100ms, timings that leave a call under 1s.
 *                 When enabled, every Kubernetes call must end well inside the
 *                 renew deadline: kubernetes.timeout is at most
 *                 min(renewDeadline / 2, leaseDuration - renewDeadline) — the
 *                 default is lowered to that, a larger value set explicitly is
 *                 refused.
 */
#ifndef CONFIG_CONFIG_H
#define CONFIG_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/err.h"

/* A list of names (kubernetes.namespaces). */
typedef struct config_names {
	char **v;
	size_t n;
} config_names;

typedef struct config {
	char *source;            /* the file it came from */
	struct {
		char *url, *branch, *path, *glob, *cache_dir;
		char *username, *password_file, *ca_file, *ssh_key_file, *known_hosts_file;
		bool accept_unknown_host_key;
		int64_t interval_ms, timeout_ms;
	} repository;
	struct {
		bool enabled;
		char *branch, *folder, *author_name, *author_email;
	} status;
	struct {
		bool in_cluster, force_conflicts;
		char *kubeconfig, *context, *field_manager, *namespace;
		int64_t timeout_ms;
		int concurrency;
		config_names namespaces;  /* the namespaces it manages; n 0: all */
	} kubernetes;
	struct {
		bool submit_jobs;
		char *rest_url, *jar_cache_dir, *s3_endpoint, *s3_region, *s3_access_key_file, *s3_secret_key_file;
		char *ca_file;
		char *rollback;           /* auto | off: roll back a new job that never becomes healthy */
		int64_t savepoint_timeout_ms, ready_timeout_ms, running_timeout_ms;
		int restart_budget;
		uint64_t jar_cache_max_bytes;
	} flink;
	struct {
		bool enabled;
		double max_delete_ratio;
	} prune;
	struct {
		char *name, *listen, *webhook_secret_file;
		int64_t retry_initial_ms, retry_max_ms;
		char *probe_listen;             /* NULL: the port after listen's */
		int max_connections_per_client; /* on listen, per client address */
		int64_t request_timeout_ms;     /* a request's whole time on listen */
		struct {
			char *cert_file, *key_file; /* PEM; both or neither: TLS on listen */
		} tls;
		struct config_leader_election {
			bool enabled;
			char *lease_name, *namespace, *identity; /* NULL: the defaults above, chosen at start */
			int64_t lease_duration_ms, renew_deadline_ms, retry_period_ms;
		} leader_election;
	} agent;
} config;

/* The webhook listener's connections in all; agent.maxConnectionsPerClient
 * is at most this. */
#define CONFIG_CONNECTIONS_MAX 64

/*
 * Load `path` (NULL: defaults and environment only), apply FLINKOPS_*
 * overrides from the environment, and check the result. Problems go to `d`;
 * returns 0 or FO_EINVAL.
 */
int config_load(const char *path, config **out, fo_diags *d);
/* The same from text, with `env` (NULL-terminated "NAME=value" list, or NULL
 * for the process environment); for tests. */
int config_load_text(const char *name, const char *text, size_t len, char *const *env, config **out, fo_diags *d);
void config_free(config *c);

/* The longest a Kubernetes call may take with leader election on: the
 * slack between our fence closing (renewDeadline after the last renewal)
 * and the earliest another replica may act (leaseDuration after it), and
 * at most half the renew deadline. */
int64_t config_call_bound_ms(const config *c);

/* The environment variable that overrides a field path ("repository.url"). Caller frees. */
char *config_env_name(const char *path);

#endif
