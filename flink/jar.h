/*
 * Jar delivery: bring the jar a FlinkDeployment names (job.jarURI) to a
 * local file that the REST client can upload. `s3://bucket/key` is read with
 * AWS Signature Version 4 from AWS S3 or any S3-compatible store (path-style
 * URLs, ENDPOINT/BUCKET/KEY), `https://` and `http://` with a configurable CA,
 * `file://` from the local disk. `local://` names a jar inside the Flink
 * image, which is never fetched: the caller renders application mode instead.
 *
 * Each jar is downloaded once into a cache folder: a folder per URI (named by
 * its hash) holding one folder per version (the hash of the ETag, or of size
 * and modification time for file://) with the jar under its own file name,
 * so that Flink's jar id stays readable. Remote jars are checked with a
 * conditional GET (If-None-Match: the cached ETag): one request, no body
 * when nothing changed. A download goes to a temporary file in the same
 * folder, is checked (size limit, a zip header) and synced, then renamed into
 * place: a crash never leaves half a jar where a whole one is expected.
 * Credentials are read from files or the environment and never appear in a
 * message or a log line. The cache is bounded (cache_max_bytes): after each
 * fetch the least recently used versions beyond the bound are removed
 * (jarcache.c), never the one just handed out nor one handed out recently
 * enough that an upload may still read it. It may be emptied whenever no
 * flinkops runs.
 */
#ifndef FLINK_JAR_H
#define FLINK_JAR_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/err.h"

/* A download's defaults a liveness budget must allow for: its connect, and
 * how long nothing may come before it fails (a download that moves is
 * alive however long it takes, up to its timeout). */
#define FLINK_JAR_CONNECT_TIMEOUT_MS 10000L
#define FLINK_JAR_STALL_TIMEOUT_MS 60000L

typedef struct flink_jar_opts {
	const char *cache_dir;          /* required; created when missing */
	/* S3: each falls back to the environment, then the default shown */
	const char *s3_endpoint;        /* AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, https://s3.REGION.amazonaws.com */
	const char *s3_region;          /* AWS_REGION, AWS_DEFAULT_REGION, us-east-1 */
	const char *s3_access_key_file; /* AWS_ACCESS_KEY_ID */
	const char *s3_secret_key_file; /* AWS_SECRET_ACCESS_KEY */
	const char *s3_session_token_file; /* AWS_SESSION_TOKEN (temporary credentials) */
	const char *ca_file;            /* PEM bundle for https:// and an https S3 endpoint */
	long timeout_ms;                /* the whole download (default 10 min) */
	long connect_timeout_ms;        /* default 10 s */
	long stall_timeout_ms;          /* nothing received for this long ends the download (default 60 s) */
	uint64_t max_bytes;             /* the largest jar accepted (default 1 GiB) */
	bool file_in_place;             /* file://: return the path itself instead of a cached copy */
	uint64_t cache_max_bytes;       /* the cache's bound (0: unbounded) */
	const atomic_bool *stop;        /* set (shutdown): a download in flight ends with FO_ESTOPPED */
	atomic_llong *alive;            /* each byte received marks progress here (NULL: not kept) */
} flink_jar_opts;

typedef struct flink_jar_result {
	char *path;      /* the local jar; caller frees */
	char *version;   /* the ETag, or "size:mtime" for file://; caller frees */
	bool from_cache; /* nothing was downloaded or copied */
} flink_jar_result;

/*
 * Make the jar at `uri` a local file; *local_path gets its path (caller
 * frees). `local://` returns FO_EUNSUPPORTED (the jar is in the image: run
 * the cluster in application mode). Errors name the URI as fo_url_redact
 * shows it (a presigned URL's query never appears) and, for S3, the
 * bucket, key and endpoint; a 403 hints at the credentials without quoting
 * them. Unknown schemes and malformed URIs are FO_EINVAL, a missing object
 * FO_ENOTFOUND, a jar over the limit FO_ETOOBIG.
 */
int flink_jar_fetch(const char *uri, const flink_jar_opts *opts, char **local_path, fo_err *e);
/* The same with the version and whether the cache answered. */
int flink_jar_fetch_ex(const char *uri, const flink_jar_opts *opts, flink_jar_result *out, fo_err *e);
void flink_jar_result_free(flink_jar_result *r);

/* A jar handed out this recently counts as in use: an upload of it may
 * still be reading it (Flink's upload timeout is 5 minutes). */
#define FLINK_JAR_IN_USE_MS (15 * 60 * 1000L)

/*
 * Bound the cache at `cache_dir` to `max_bytes`: remove the least recently
 * used versions (folders CACHE/URI/VERSION) until the rest fits, never
 * `keep` (a jar path, may be NULL) nor one used within FLINK_JAR_IN_USE_MS.
 * Also removes the temporary files of downloads that died more than a day
 * ago. *removed (may be NULL) gets the bytes freed. A version that cannot
 * be removed is skipped with a warning; only an unreadable cache folder is
 * an error.
 */
int flink_jar_cache_trim(const char *cache_dir, uint64_t max_bytes, const char *keep, uint64_t *removed, fo_err *e);
/* Mark `path` (a cached jar) as used now, for the least-recently-used order. */
void flink_jar_cache_touch(const char *path);

/* ---- pure parts, exposed for the unit tests ---- */

/* One version in the cache, as the eviction decision sees it. */
typedef struct flink_jar_cached {
	uint64_t bytes;
	int64_t used_ms;   /* last use (the jar's modification time), ms since the epoch */
	bool keep;         /* the jar being handed out now */
} flink_jar_cached;

/*
 * Which versions to remove so that the cache fits in `max` bytes: the
 * least recently used first (ties: the larger first), never one marked
 * keep nor one used less than `in_use_ms` before `now_ms`. Sets evict[i]
 * and returns the bytes that remain (above `max` when what is in use alone
 * exceeds it). Pure.
 */
uint64_t flink_jar_cache_evict(const flink_jar_cached *c, size_t n, uint64_t max, int64_t now_ms, long in_use_ms,
			       bool *evict);

enum flink_jar_scheme { FLINK_JAR_S3, FLINK_JAR_HTTPS, FLINK_JAR_HTTP, FLINK_JAR_FILE, FLINK_JAR_LOCAL };

typedef struct flink_jar_uri {
	enum flink_jar_scheme scheme;
	char *bucket;    /* s3 */
	char *key;       /* s3: the object key, without a leading '/' */
	char *path;      /* file:// and local://: the absolute path */
	char *name;      /* the jar's file name in the cache: the last path part, made safe, ending in .jar */
} flink_jar_uri;

/* Split and check a jar URI. FO_EINVAL with the reason when malformed,
 * credentials inside the URI included. */
int flink_jar_uri_parse(const char *uri, flink_jar_uri *out, fo_err *e);
void flink_jar_uri_free(flink_jar_uri *u);
/*
 * Where the cache keeps version `version` of `uri`:
 * CACHE/<sha256(uri), 32 hex>/<sha256(version), 16 hex>/<name>. Caller frees.
 */
char *flink_jar_cache_path(const char *cache_dir, const char *uri, const char *version, const char *name);
/* The folder of `uri` in the cache (CACHE/<sha256(uri), 32 hex>). Caller frees. */
char *flink_jar_cache_dir(const char *cache_dir, const char *uri);
/* Percent-encode an S3 key for a path-style URL ('/' kept). Caller frees. */
char *flink_jar_s3_key_escape(const char *key);
/*
 * The message for a failed S3 answer: status, the <Code> and <Message> of
 * the XML error body (bounded), bucket, key and endpoint, and a hint.
 * Returns the code (403 FO_EFORBIDDEN, 404 FO_ENOTFOUND, ...).
 */
int flink_jar_s3_error(long status, const char *body, const char *bucket, const char *key, const char *endpoint,
		       bool signed_request, fo_err *e);

#endif
