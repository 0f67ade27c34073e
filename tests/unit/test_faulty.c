/*
 * Replies that real servers cannot be made to send. The Kubernetes client,
 * the Flink REST client and the jar fetcher (https:// and s3:// with SigV4)
 * talk to tests/faulty/faulty_http.py, a server on 127.0.0.1 that answers
 * every request with one fault: a body cut short of its Content-Length, a
 * body far over the client's limit, a chunked stream without end (fast and
 * slow), silence after the headers, invalid JSON, an HTML page where JSON
 * belongs, a redirect to another host, a certificate for another name. Each
 * call must fail with a message naming what was called, on which URL and
 * what went wrong, within its timeout (the Kubernetes client's bounded
 * retries included), with no secret in the message and no file left in the
 * jar cache. The same server answering correctly is the control: the errors
 * come from the faults, not from the harness.
 */
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "flink/jar.h"
#include "flink/rest.h"
#include "k8s/k8s.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/http.h"
#include "lib/json.h"
#include "tests/unit/want.h"

#define SERVER FO_SRCDIR "/tests/faulty/faulty_http.py"
/* every client's per-request timeout */
#define TIMEOUT_MS 1000L
/* the Kubernetes client's retries and first delay */
#define RETRIES 1
#define BACKOFF_MS 50L
/* every client's body limit */
#define LIMIT (64u << 10)
/* what is not the fault takes time too: a TLS handshake, valgrind */
#define MARGIN_MS 1500L

/* secrets that must never reach a message */
#define K8S_TOKEN "faulty-k8s-token"
#define S3_SECRET "faulty-s3-secret"
#define REDIRECT_SECRET "faulty-redirect-secret"

static char dir[] = "/tmp/fo-faulty-XXXXXX";

/* ---- the faulty server ---- */

typedef struct faulty {
	pid_t pid;
	int http, https; /* ports on 127.0.0.1 */
	char *log;       /* one line a request: METHOD PATH AUTH-SCHEME */
} faulty;

static void msleep(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The server of the running test; each test's teardown stops it, also after a failure. */
static faulty server;

/* Start the server in `mode` with certificate `cert` ("good": localhost and
 * 127.0.0.1, "wrong": wrong.example) and wait until it listens. */
static const faulty *faulty_start(const char *mode, const char *cert)
{
	faulty *f = &server;
	char *pf = fo_asprintf("%s/port-%s-%s", dir, mode, cert);
	char *crt = fo_asprintf("%s/certs/%s.crt", dir, cert);
	char *key = fo_asprintf("%s/certs/%s.key", dir, cert);
	f->log = fo_asprintf("%s/log-%s-%s", dir, mode, cert);
	unlink(pf);
	unlink(f->log);
	f->pid = fork();
	assert_true(f->pid >= 0);
	if (f->pid == 0) {
		/* it goes when the test goes, even one that crashed */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		execlp("python3", "python3", SERVER, mode, "--port-file", pf, "--tls-cert", crt, "--tls-key", key,
		       "--lifetime", "60", "--log", f->log, (char *)NULL);
		_exit(127);
	}
	f->http = f->https = 0;
	for (int i = 0; i < 200 && !f->https; i++) {
		char *text = NULL;
		fo_err e = FO_ERR_INIT;
		if (fo_fs_read(pf, 64, &text, NULL, &e) == 0 && sscanf(text, "%d %d", &f->http, &f->https) != 2)
			f->http = f->https = 0;
		free(text);
		fo_err_clear(&e);
		int st;
		if (!f->https && waitpid(f->pid, &st, WNOHANG) == f->pid) {
			f->pid = 0;
			fail_msg("the faulty server (%s) exited with status %d", mode, st);
		}
		if (!f->https)
			msleep(50);
	}
	if (!f->https)
		fail_msg("the faulty server (%s) did not start within 10 s", mode);
	free(pf);
	free(crt);
	free(key);
	return f;
}

static int faulty_stop(void **state)
{
	(void)state;
	if (server.pid > 0) {
		kill(server.pid, SIGTERM);
		waitpid(server.pid, NULL, 0);
	}
	free(server.log);
	memset(&server, 0, sizeof(server));
	return 0;
}

/* ---- checks ---- */

typedef struct expect {
	int rc;
	const char *what;    /* what went wrong, in the message */
} expect;

typedef struct fault {
	const char *name;
	const char *mode;
	const char *cert;
	bool timed;          /* ends by the request timeout, not before */
	bool retried;        /* the Kubernetes client tries it again (RETRIES times) */
	expect k8s, rest, jar;
} fault;

/*
 * One finished call: its code, the message (naming the call and `url`,
 * saying `w.what`, holding no secret), and its time: at most `attempts`
 * timeouts (and the retry delays) plus a margin, and at least one timeout
 * when the fault is one that only the timeout ends.
 */
static void check(const char *client, const fault *f, int rc, const fo_err *e, long ms, const expect *w,
		  const char *call, const char *url, int attempts)
{
	const char *msg = fo_err_msg(e);
	long bound = attempts * TIMEOUT_MS + (attempts - 1) * BACKOFF_MS * 2 + MARGIN_MS;
	if (getenv("FO_FAULTY_VERBOSE"))
		fprintf(stderr, "%-5s %-12s %-12s %-13s %5ld ms (bound %ld): %s\n", client, f->name, fo_err_code_name(rc),
			call, ms, bound, msg);
	if (rc != w->rc)
		fail_msg("%s, %s: code %s (%s), want %s", client, f->name, fo_err_code_name(rc), msg,
			 fo_err_code_name(w->rc));
	want_contains(msg, call);
	want_contains(msg, url);
	want_contains(msg, w->what);
	want_lacks(msg, K8S_TOKEN);
	want_lacks(msg, S3_SECRET);
	want_lacks(msg, REDIRECT_SECRET);
	if (ms > bound)
		fail_msg("%s, %s: %ld ms, more than %ld", client, f->name, ms, bound);
	if (f->timed && ms < TIMEOUT_MS - 50)
		fail_msg("%s, %s: %ld ms, less than the timeout: not ended by it", client, f->name, ms);
}

static int nfiles;
static bool show_files;

static int count_file(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_F) {
		nfiles++;
		if (show_files)
			fprintf(stderr, "left in the jar cache: %s\n", path);
	}
	return 0;
}

/* The regular files below `path`; `show` lists them (those that should not be there). */
static int files_under(const char *path, bool show)
{
	nfiles = 0;
	show_files = show;
	nftw(path, count_file, 16, FTW_PHYS);
	return nfiles;
}

/* ---- the clients ---- */

static k8s_client *k8s_for(int port)
{
	char *kc = fo_asprintf("apiVersion: v1\nkind: Config\ncurrent-context: t\n"
			       "clusters:\n- name: t\n  cluster: {server: \"https://localhost:%d\", "
			       "certificate-authority: %s/certs/ca.crt}\n"
			       "users:\n- name: t\n  user: {token: " K8S_TOKEN "}\n"
			       "contexts:\n- name: t\n  context: {cluster: t, user: t, namespace: default}\n",
			       port, dir);
	k8s_config *cfg = NULL;
	k8s_client *c = NULL;
	fo_err e = FO_ERR_INIT;
	if (k8s_config_from_kubeconfig_text("kubeconfig", kc, strlen(kc), dir, NULL, &cfg, &e) < 0)
		fail_msg("kubeconfig: %s", fo_err_msg(&e));
	k8s_options o = {0};
	o.timeout_ms = TIMEOUT_MS;
	o.retries = RETRIES;
	o.backoff_ms = BACKOFF_MS;
	o.max_body = LIMIT;
	if (k8s_client_new(cfg, &o, &c, &e) < 0)
		fail_msg("k8s client: %s", fo_err_msg(&e));
	k8s_config_free(cfg);
	free(kc);
	return c;
}

static cJSON *configmap(void)
{
	cJSON *o = cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\","
			       "\"metadata\":{\"name\":\"cm\",\"namespace\":\"default\"},\"data\":{\"a\":\"b\"}}");
	assert_non_null(o);
	return o;
}

static int count_item(cJSON *item, void *arg)
{
	(*(int *)arg)++;
	cJSON_Delete(item);
	return 0;
}

static void jar_opts(flink_jar_opts *o, const char *cache, const char *endpoint)
{
	static char access[128], secret[128], ca[128];
	snprintf(access, sizeof(access), "%s/access", dir);
	snprintf(secret, sizeof(secret), "%s/secret", dir);
	snprintf(ca, sizeof(ca), "%s/certs/ca.crt", dir);
	memset(o, 0, sizeof(*o));
	o->cache_dir = cache;
	o->s3_endpoint = endpoint;
	o->s3_region = "us-east-1";
	o->s3_access_key_file = access;
	o->s3_secret_key_file = secret;
	o->ca_file = ca;
	o->timeout_ms = TIMEOUT_MS;
	o->connect_timeout_ms = TIMEOUT_MS;
	o->max_bytes = LIMIT;
}

/* The Kubernetes client: get, list and apply. */
static void run_k8s(const fault *f, const faulty *s)
{
	k8s_client *c = k8s_for(s->https);
	int attempts = f->retried ? RETRIES + 1 : 1;
	char *obj_url = fo_asprintf("https://localhost:%d/api/v1/namespaces/default/configmaps/cm", s->https);
	char *list_url = fo_asprintf("https://localhost:%d/api/v1/namespaces/default/configmaps?", s->https);
	fo_err e = FO_ERR_INIT;

	cJSON *out = NULL;
	long t0 = now_ms();
	int rc = k8s_get(c, &k8s_kind_configmap, "default", "cm", &out, &e);
	check("k8s", f, rc, &e, now_ms() - t0, &f->k8s, "get ConfigMap default/cm: GET", obj_url, attempts);
	assert_null(out);
	assert_int_equal(k8s_client_stats(c)->retries, (unsigned long)(attempts - 1));
	fo_err_clear(&e);

	int n = 0;
	t0 = now_ms();
	rc = k8s_list_each(c, &k8s_kind_configmap, "default", NULL, 0, count_item, &n, &e);
	check("k8s", f, rc, &e, now_ms() - t0, &f->k8s, "list ConfigMap in namespace default: GET", list_url,
	      attempts);
	assert_int_equal(n, 0);
	fo_err_clear(&e);

	cJSON *obj = configmap(), *result = NULL;
	t0 = now_ms();
	rc = k8s_apply(c, obj, false, &result, &e);
	check("k8s", f, rc, &e, now_ms() - t0, &f->k8s, "apply ConfigMap default/cm: PATCH", obj_url, attempts);
	assert_null(result);
	fo_err_clear(&e);

	/* none of the three went on retrying */
	assert_int_equal(k8s_client_stats(c)->retries, (unsigned long)(3 * (attempts - 1)));
	cJSON_Delete(obj);
	free(obj_url);
	free(list_url);
	k8s_client_free(c);
}

/* The Flink REST client: list jobs, over plain HTTP, or over TLS for a certificate fault. */
static void run_rest(const fault *f, const faulty *s)
{
	bool tls = strcmp(f->cert, "wrong") == 0;
	char *base = tls ? fo_asprintf("https://127.0.0.1:%d", s->https) : fo_asprintf("http://127.0.0.1:%d", s->http);
	char *ca = fo_asprintf("%s/certs/ca.crt", dir);
	flink_rest_opts o = {0};
	o.timeout_ms = TIMEOUT_MS;
	o.connect_timeout_ms = TIMEOUT_MS;
	o.max_body = LIMIT;
	o.ca_file = ca;
	flink_rest *c = NULL;
	fo_err e = FO_ERR_INIT;
	assert_int_equal(flink_rest_new(base, &o, &c, &e), 0);
	flink_job_list jobs;
	long t0 = now_ms();
	int rc = flink_rest_jobs(c, &jobs, &e);
	char *call = fo_asprintf("list jobs on %s", base);
	/* "GET BASE/jobs/overview", or "on BASE (GET /jobs/overview)" for what the answer said */
	check("rest", f, rc, &e, now_ms() - t0, &f->rest, call, "/jobs/overview", 1);
	assert_int_equal(jobs.n, 0);
	flink_job_list_free(&jobs);
	fo_err_clear(&e);
	flink_rest_free(c);
	free(call);
	free(ca);
	free(base);
}

/* The jar fetcher: https://, and s3:// at an endpoint over HTTP (over TLS for a certificate fault). */
static void run_jar(const fault *f, const faulty *s)
{
	bool tls = strcmp(f->cert, "wrong") == 0;
	char *cache = fo_asprintf("%s/cache-%s", dir, f->name);
	char *uri = fo_asprintf("https://localhost:%d/jobs/faulty.jar", s->https);
	char *endpoint = tls ? fo_asprintf("https://localhost:%d", s->https) : fo_asprintf("http://127.0.0.1:%d", s->http);
	flink_jar_opts o;
	jar_opts(&o, cache, endpoint);
	fo_err e = FO_ERR_INIT;

	char *path = NULL;
	long t0 = now_ms();
	int rc = flink_jar_fetch(uri, &o, &path, &e);
	char *call = fo_asprintf("fetch %s", uri);
	check("jar", f, rc, &e, now_ms() - t0, &f->jar, call, uri, 1);
	assert_null(path);
	fo_err_clear(&e);
	free(call);

	t0 = now_ms();
	rc = flink_jar_fetch("s3://jobs/faulty.jar", &o, &path, &e);
	check("jar", f, rc, &e, now_ms() - t0, &f->jar, "fetch s3://jobs/faulty.jar", endpoint, 1);
	assert_null(path);
	fo_err_clear(&e);

	/* nothing half-downloaded stays behind */
	assert_int_equal(files_under(cache, true), 0);
	free(endpoint);
	free(uri);
	free(cache);
}

/* ---- the faults ---- */

static const fault faults[] = {
	{"truncated", "truncated", "good", false, true,
	 {FO_ENET, "the connection closed after"}, {FO_ENET, "the connection closed after"},
	 {FO_ENET, "the connection closed after"}},
	{"toobig", "toobig", "good", false, false,
	 {FO_ETOOBIG, "larger than 65536 bytes"}, {FO_ETOOBIG, "larger than 65536 bytes"},
	 {FO_ETOOBIG, "larger than the limit of 65536 bytes"}},
	{"stream-fast", "stream-fast", "good", false, false,
	 {FO_ETOOBIG, "larger than 65536 bytes"}, {FO_ETOOBIG, "larger than 65536 bytes"},
	 {FO_ETOOBIG, "larger than the limit of 65536 bytes"}},
	{"stream-slow", "stream-slow", "good", true, true,
	 {FO_ETIMEOUT, "did not finish within 1000 ms"}, {FO_ETIMEOUT, "did not finish within 1000 ms"},
	 {FO_ETIMEOUT, "did not finish within 1000 ms"}},
	{"stall", "stall", "good", true, true,
	 {FO_ETIMEOUT, "did not finish within 1000 ms"}, {FO_ETIMEOUT, "did not finish within 1000 ms"},
	 {FO_ETIMEOUT, "did not finish within 1000 ms"}},
	{"badjson", "badjson", "good", false, false,
	 {FO_ESERVER, "not valid JSON"}, {FO_ESERVER, "not a JSON object"}, {FO_EINVAL, "not a jar"}},
	{"html", "html", "good", false, false,
	 {FO_ESERVER, "expected JSON, got text/html"}, {FO_ESERVER, "expected JSON, got text/html"},
	 {FO_EINVAL, "Content-Type text/html"}},
	{"redirect", "redirect", "good", false, false,
	 {FO_EINVAL, "to http://127.0.0.2:"}, {FO_EINVAL, "to http://127.0.0.2:"}, {FO_EINVAL, "to http://127.0.0.2:"}},
	{"wrong-name", "ok", "wrong", false, false,
	 {FO_EREFUSED, "certificate"}, {FO_EREFUSED, "certificate"}, {FO_EREFUSED, "certificate"}},
};

_Static_assert(FO_ARRAY_LEN(faults) == 9, "main() lists each fault");

static void test_fault(void **state)
{
	const fault *f = *state;
	const faulty *s = faulty_start(f->mode, f->cert);
	run_k8s(f, s);
	run_rest(f, s);
	run_jar(f, s);
}

/* The control: the same server answering correctly, over TLS with the right certificate. */
static void test_control(void **state)
{
	(void)state;
	const faulty *s = faulty_start("ok", "good");
	fo_err e = FO_ERR_INIT;

	k8s_client *k = k8s_for(s->https);
	cJSON *out = NULL;
	if (k8s_get(k, &k8s_kind_configmap, "default", "cm", &out, &e) < 0)
		fail_msg("get: %s", fo_err_msg(&e));
	cJSON_Delete(out);
	int n = 0;
	if (k8s_list_each(k, &k8s_kind_configmap, "default", "app=x", 0, count_item, &n, &e) < 0)
		fail_msg("list: %s", fo_err_msg(&e));
	assert_int_equal(n, 1);
	cJSON *obj = configmap();
	/* the body applied holds numbers exactly: a whole number past 2^53
	 * with all its digits (cJSON's printer writes 1e+17) */
	cJSON_AddNumberToObject(obj, "n", 1e17);
	cJSON_AddNumberToObject(obj, "f", 0.1);
	if (k8s_apply(k, obj, false, &out, &e) < 0)
		fail_msg("apply: %s", fo_err_msg(&e));
	const char *body = fo_json_str(cJSON_GetObjectItem(cJSON_GetObjectItem(out, "metadata"), "annotations"),
				       "request-body");
	want_contains(body, "\"n\":100000000000000000,");
	want_contains(body, "\"f\":0.1}");
	cJSON_Delete(out);
	cJSON_Delete(obj);
	k8s_client_free(k);

	char *base = fo_asprintf("http://127.0.0.1:%d", s->http);
	flink_rest_opts ro = {0};
	ro.timeout_ms = TIMEOUT_MS;
	ro.max_body = LIMIT;
	flink_rest *r = NULL;
	assert_int_equal(flink_rest_new(base, &ro, &r, &e), 0);
	flink_job_list jobs;
	if (flink_rest_jobs(r, &jobs, &e) < 0)
		fail_msg("jobs: %s", fo_err_msg(&e));
	flink_job_list_free(&jobs);
	flink_rest_free(r);

	char *cache = fo_asprintf("%s/cache-control", dir);
	char *endpoint = fo_asprintf("http://127.0.0.1:%d", s->http);
	char *uri = fo_asprintf("https://localhost:%d/jobs/faulty.jar", s->https);
	flink_jar_opts o;
	jar_opts(&o, cache, endpoint);
	char *path = NULL;
	if (flink_jar_fetch(uri, &o, &path, &e) < 0)
		fail_msg("fetch %s: %s", uri, fo_err_msg(&e));
	free(path);
	if (flink_jar_fetch("s3://jobs/faulty.jar", &o, &path, &e) < 0)
		fail_msg("fetch s3: %s", fo_err_msg(&e));
	free(path);
	/* each jar and its ETag */
	assert_int_equal(files_under(cache, false), 4);
	char *log = NULL;
	assert_int_equal(fo_fs_read(s->log, 1 << 20, &log, NULL, &e), 0);
	/* the S3 request was signed */
	want_contains(log, "GET /jobs/faulty.jar AWS4-HMAC-SHA256");
	free(log);
	free(uri);
	free(endpoint);
	free(cache);
	free(base);
}

/*
 * A jar download has a long deadline (minutes, for a large jar), so a
 * connection that goes silent after the headers is cut by the stall
 * timeout instead, long before the deadline.
 */
static void test_jar_stall_timeout(void **state)
{
	(void)state;
	const faulty *s = faulty_start("stall", "good");
	char *cache = fo_asprintf("%s/cache-stall-timeout", dir);
	char *uri = fo_asprintf("https://localhost:%d/jobs/faulty.jar", s->https);
	flink_jar_opts o;
	jar_opts(&o, cache, NULL);
	o.timeout_ms = 20000;
	o.stall_timeout_ms = 1000;
	char *path = NULL;
	fo_err e = FO_ERR_INIT;
	long t0 = now_ms();
	int rc = flink_jar_fetch(uri, &o, &path, &e);
	long ms = now_ms() - t0;
	if (getenv("FO_FAULTY_VERBOSE"))
		fprintf(stderr, "jar   stall (stall timeout 1 s, timeout 20 s): %s %ld ms: %s\n", fo_err_code_name(rc), ms,
			fo_err_msg(&e));
	assert_int_equal(rc, FO_ETIMEOUT);
	want_contains(fo_err_msg(&e), uri);
	want_contains(fo_err_msg(&e), "nothing came for 1 s");
	/* curl checks the speed once a second: the stall is seen within 2 s */
	assert_true(ms >= 900 && ms <= 2000 + MARGIN_MS);
	assert_int_equal(files_under(cache, true), 0);
	fo_err_clear(&e);
	free(uri);
	free(cache);
}

/* Sets the stop request after 500 ms, as the signal thread does on SIGTERM. */
static void *stop_later(void *arg)
{
	struct timespec ts = {0, 500 * 1000000L};
	nanosleep(&ts, NULL);
	atomic_store((atomic_bool *)arg, true);
	return NULL;
}

/*
 * A download that keeps moving is cut by neither its deadline nor its
 * stall bound, but the stop request ends it at once: FO_ESTOPPED, "interrupted
 * by stop request", nothing left in the cache. While it moved, it marked
 * progress.
 */
static void test_jar_stop_interrupts(void **state)
{
	(void)state;
	const faulty *s = faulty_start("stream-slow", "good");
	char *cache = fo_asprintf("%s/cache-stop", dir);
	char *uri = fo_asprintf("https://localhost:%d/jobs/faulty.jar", s->https);
	flink_jar_opts o;
	jar_opts(&o, cache, NULL);
	o.timeout_ms = 20000;
	o.stall_timeout_ms = 5000;
	atomic_bool stop;
	atomic_llong alive;
	atomic_init(&stop, false);
	atomic_init(&alive, 0);
	o.stop = &stop;
	o.alive = &alive;
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, stop_later, &stop), 0);
	char *path = NULL;
	fo_err e = FO_ERR_INIT;
	long t0 = now_ms();
	int rc = flink_jar_fetch(uri, &o, &path, &e);
	long ms = now_ms() - t0;
	pthread_join(th, NULL);
	if (getenv("FO_FAULTY_VERBOSE"))
		fprintf(stderr, "jar   stop after 500 ms: %s %ld ms: %s\n", fo_err_code_name(rc), ms, fo_err_msg(&e));
	assert_int_equal(rc, FO_ESTOPPED);
	want_contains(fo_err_msg(&e), "interrupted by stop request");
	/* libcurl calls the progress callback at least once a second */
	assert_true(ms >= 450 && ms <= 1500 + MARGIN_MS);
	/* bytes came: progress was marked during the download */
	assert_true(atomic_load(&alive) > 0);
	assert_int_equal(files_under(cache, true), 0);
	fo_err_clear(&e);
	free(uri);
	free(cache);
}

/* ---- setup ---- */

static int write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	int rc = fputs(text, f) < 0 ? -1 : 0;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	/* a CA, and certificates it signed for localhost and for wrong.example */
	char *cmd = fo_asprintf("python3 %s certs %s/certs", SERVER, dir);
	int rc = system(cmd);
	free(cmd);
	if (rc != 0) {
		fprintf(stderr, "cannot make test certificates (python3 and openssl are needed)\n");
		return -1;
	}
	char *a = fo_asprintf("%s/access", dir), *s = fo_asprintf("%s/secret", dir);
	rc = write_text(a, "FAULTYACCESSKEY\n") == 0 && write_text(s, S3_SECRET "\n") == 0 ? 0 : -1;
	free(a);
	free(s);
	return rc;
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	remove(path);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

int main(void)
{
#define FAULT(i) {faults[i].name, test_fault, NULL, faulty_stop, (void *)&faults[i]}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_control, faulty_stop),
		FAULT(0), FAULT(1), FAULT(2), FAULT(3), FAULT(4), FAULT(5), FAULT(6), FAULT(7), FAULT(8),
		cmocka_unit_test_teardown(test_jar_stall_timeout, faulty_stop),
		cmocka_unit_test_teardown(test_jar_stop_interrupts, faulty_stop),
	};
	return cmocka_run_group_tests_name("faulty", tests, setup, teardown);
}
