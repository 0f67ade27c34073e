/*
 * The git side of flinkops with libgit2 (see sync.h): a bare cache clone per
 * remote URL, fetched incrementally; manifests read from commit trees; change
 * detection by blob id; status commits pushed without force and rebuilt on
 * the new tip when someone else pushed first.
 *
 * libgit2 1.5 has no network timeout option (GIT_OPT_SET_SERVER_TIMEOUT
 * and GIT_OPT_SET_SERVER_CONNECT_TIMEOUT came in 1.7), so every fetch and
 * push runs in a short-lived worker process — this same program, spawned
 * afresh (sync_worker_main) — that the caller kills at the deadline (see
 * bounded()); inside it, the server's port is probed with a
 * bounded connect first for a clear "cannot connect" message, and every
 * callback libgit2 makes (credentials, certificate, progress) aborts once
 * the deadline has passed. Killing the worker never corrupts the cache: git
 * writes packs to temporary files and moves refs last.
 */
#include "sync/internal.h"
#include "sync/sync.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <signal.h>
#include <spawn.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>
#include <openssl/evp.h>

#include "lib/base64.h"
#include "lib/buf.h"
#include "lib/fence.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/url.h"

#define DEFAULT_TIMEOUT 60
#define DEFAULT_MAX_BYTES (1024 * 1024)
#define PUSH_REF "refs/flinkops/status-push"
#define SECRET_MAX 4096
#define MAX_MANIFESTS 20000                /* files read at one commit */
#define MAX_MANIFEST_BYTES (256u << 20)    /* their total size */

struct sync_repo {
	git_repository *repo;
	char *url;         /* as given; may hold credentials: never printed */
	char *display;     /* for messages: the URL as fo_url_redact shows it */
	char *path;        /* the cache folder, or the local repository */
	bool local;        /* opened in place: no remote */
	/* auth, copied */
	char *username, *password_file, *ca_file, *ssh_key_file, *ssh_known_hosts;
	bool ssh_accept_unknown;
	int timeout;
	/* state of one network operation */
	struct timespec deadline;
	int userpass_calls, sshkey_calls;
	bool auth_failed, timed_out;
	char *cb_error;    /* our own message for a refusal inside a callback */
	char *push_rejected;
	const atomic_bool *stop; /* the stop request: ends a fetch of the manifests (sync_fetch) */
	atomic_llong *alive;     /* each worker that ends marks progress here */
};

/* ---- small helpers ---- */

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static bool past_deadline(sync_repo *r)
{
	double d = (double)r->deadline.tv_sec + (double)r->deadline.tv_nsec / 1e9;
	if (now_s() > d) {
		r->timed_out = true;
		return true;
	}
	return false;
}

static void start_op(sync_repo *r)
{
	double d = now_s() + (r->timeout > 0 ? r->timeout : DEFAULT_TIMEOUT);
	r->deadline.tv_sec = (time_t)d;
	r->deadline.tv_nsec = (long)((d - (double)(time_t)d) * 1e9);
	r->userpass_calls = r->sshkey_calls = 0;
	r->auth_failed = r->timed_out = false;
	free(r->cb_error);
	r->cb_error = NULL;
	free(r->push_rejected);
	r->push_rejected = NULL;
}

static const char *git_msg(void)
{
	const git_error *ge = git_error_last();
	return ge && ge->message ? ge->message : "unknown libgit2 error";
}

const char *sync_git_msg(void)
{
	return git_msg();
}

git_repository *sync_repo_git(sync_repo *r)
{
	return r->repo;
}

bool sync_repo_is_cache(const sync_repo *r)
{
	return !r->local;
}

static void set_cb_error(sync_repo *r, const char *fmt, ...) FO_PRINTF(2, 3);

static void set_cb_error(sync_repo *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	free(r->cb_error);
	r->cb_error = fo_vasprintf(fmt, ap);
	va_end(ap);
	git_error_set_str(GIT_ERROR_NET, r->cb_error);
}

/* A libgit2 failure as an fo_err, preferring what our callbacks recorded. */
static int net_error(sync_repo *r, int gerr, fo_err *e, const char *what)
{
	if (r->auth_failed)
		return fo_err_set(e, FO_EAUTH, "%s %s: %s", what, r->display, r->cb_error);
	if (r->timed_out)
		return fo_err_set(e, FO_ETIMEOUT,
				  "%s %s: no answer within %d s; check that the server is reachable or raise the timeout",
				  what, r->display, r->timeout > 0 ? r->timeout : DEFAULT_TIMEOUT);
	if (r->cb_error)
		return fo_err_set(e, gerr == GIT_ECERTIFICATE ? FO_EREFUSED : FO_EAUTH, "%s %s: %s", what, r->display,
				  r->cb_error);
	int code = FO_ENET;
	if (gerr == GIT_EAUTH)
		code = FO_EAUTH;
	else if (gerr == GIT_ECERTIFICATE)
		code = FO_EREFUSED;
	else if (gerr == GIT_ENONFASTFORWARD)
		code = FO_ECONFLICT;
	else if (gerr == GIT_ENOTFOUND)
		code = FO_ENOTFOUND;
	const char *hint = "";
	if (code == FO_EREFUSED)
		hint = "; the server's TLS certificate is not trusted: give its CA with the CA file option";
	else if (code == FO_ENET)
		hint = "; check the URL and that the server is reachable";
	/* libgit2's message may quote the URL */
	char *msg = fo_url_scrub(git_msg(), r->url);
	fo_err_set(e, code, "%s %s: %s%s", what, r->display, msg, hint);
	free(msg);
	return code;
}

/* Host and port of a network URL; false for local ones. */
static bool url_host_port(const char *url, char **host, int *port)
{
	int defport = 0;
	const char *rest = NULL;
	if (fo_has_prefix(url, "https://"))
		defport = 443, rest = url + 8;
	else if (fo_has_prefix(url, "http://"))
		defport = 80, rest = url + 7;
	else if (fo_has_prefix(url, "ssh://"))
		defport = 22, rest = url + 6;
	else if (fo_has_prefix(url, "git://"))
		defport = 9418, rest = url + 6;
	else if (!strstr(url, "://") && strchr(url, ':') && url[0] != '/' && url[0] != '.') {
		/* scp-like user@host:path */
		const char *at = strchr(url, '@');
		const char *h = at && at < strchr(url, ':') ? at + 1 : url;
		const char *c = strchr(h, ':');
		*host = fo_strndup(h, (size_t)(c - h));
		*port = 22;
		return true;
	}
	if (!rest)
		return false;
	size_t n = strcspn(rest, "/?#");
	const char *at = NULL;
	for (size_t i = 0; i < n; i++)
		if (rest[i] == '@')
			at = rest + i;
	const char *h = at ? at + 1 : rest;
	const char *end = rest + n;
	*port = defport;
	if (*h == '[') {
		const char *rb = memchr(h, ']', (size_t)(end - h));
		if (!rb)
			return false;
		*host = fo_strndup(h + 1, (size_t)(rb - h - 1));
		if (rb + 1 < end && rb[1] == ':')
			*port = atoi(rb + 2);
		return true;
	}
	const char *c = memchr(h, ':', (size_t)(end - h));
	*host = fo_strndup(h, (size_t)((c ? c : end) - h));
	if (c)
		*port = atoi(c + 1);
	return true;
}

/* Connect to the server's port within the deadline: libgit2's own connect has no timeout. */
static int probe(sync_repo *r, fo_err *e)
{
	char *host = NULL;
	int port = 0;
	if (!url_host_port(r->url, &host, &port))
		return 0;
	char portstr[16];
	snprintf(portstr, sizeof(portstr), "%d", port);
	struct addrinfo hints = {0}, *res = NULL;
	hints.ai_socktype = SOCK_STREAM;
	int rc = 0;
	int g = getaddrinfo(host, portstr, &hints, &res);
	if (g != 0) {
		rc = fo_err_set(e, FO_ENET, "remote %s: cannot resolve host \"%s\": %s; check the URL", r->display, host,
				gai_strerror(g));
		goto cleanup;
	}
	int last = 0;
	rc = FO_ENET;
	for (struct addrinfo *ai = res; ai && rc != 0; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			last = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			rc = 0;
		} else if (errno == EINPROGRESS) {
			struct pollfd p = {fd, POLLOUT, 0};
			double left = (double)r->deadline.tv_sec + (double)r->deadline.tv_nsec / 1e9 - now_s();
			int ms = left > 0 ? (int)(left * 1000) : 0;
			int pr = poll(&p, 1, ms);
			if (pr == 1) {
				int err = 0;
				socklen_t l = sizeof(err);
				getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
				if (err == 0)
					rc = 0;
				else
					last = err;
			} else {
				last = ETIMEDOUT;
			}
		} else {
			last = errno;
		}
		close(fd);
	}
	if (rc != 0)
		fo_err_set(e, last == ETIMEDOUT ? FO_ETIMEOUT : FO_ENET,
			   "remote %s: cannot connect to %s port %d: %s; check the URL and that the server is reachable",
			   r->display, host, port, last == ETIMEDOUT ? "timed out" : strerror(last));
cleanup:
	if (res)
		freeaddrinfo(res);
	free(host);
	return rc;
}

/* ---- callbacks ---- */

static int read_secret(const char *file, char **out, sync_repo *r)
{
	fo_err fe = FO_ERR_INIT;
	size_t len = 0;
	if (fo_fs_read(file, SECRET_MAX, out, &len, &fe) < 0) {
		set_cb_error(r, "cannot read the password file: %s", fo_err_msg(&fe));
		fo_err_clear(&fe);
		return -1;
	}
	while (len > 0 && ((*out)[len - 1] == '\n' || (*out)[len - 1] == '\r'))
		(*out)[--len] = '\0';
	return 0;
}

/* How a message names the user: a name taken from the URL may be a token
 * (https://TOKEN@host), so it is not quoted. Caller frees. */
static char *user_for_message(const char *user, bool from_url)
{
	return from_url ? fo_strdup("the user named in the URL") : fo_asprintf("user \"%s\"", user ? user : "git");
}

static int cb_credentials(git_credential **out, const char *url, const char *user_from_url, unsigned int allowed,
			  void *payload)
{
	sync_repo *r = payload;
	(void)url;
	if (past_deadline(r))
		return -1;
	bool from_url = user_from_url && *user_from_url;
	const char *user = from_url ? user_from_url : r->username;
	if ((allowed & GIT_CREDENTIAL_SSH_KEY) && r->ssh_key_file) {
		if (++r->sshkey_calls > 1) {
			r->auth_failed = true;
			char *who = user_for_message(user, from_url);
			set_cb_error(r, "authentication failed for %s: the server refused the SSH key %s for %s; "
					"check that its public key is authorized",
				     r->display, r->ssh_key_file, who);
			free(who);
			return GIT_EAUTH;
		}
		char *pub = fo_asprintf("%s.pub", r->ssh_key_file);
		struct stat st;
		int rc = git_credential_ssh_key_new(out, user ? user : "git", stat(pub, &st) == 0 ? pub : NULL,
						    r->ssh_key_file, NULL);
		free(pub);
		return rc;
	}
	if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) && r->password_file) {
		if (++r->userpass_calls > 1) {
			r->auth_failed = true;
			char *who = user_for_message(user, from_url);
			set_cb_error(r, "authentication failed for %s: the server refused %s with the password "
					"from %s; check the password file",
				     r->display, who, r->password_file);
			free(who);
			return GIT_EAUTH;
		}
		char *pw = NULL;
		if (read_secret(r->password_file, &pw, r) < 0) {
			r->auth_failed = true;
			return GIT_EAUTH;
		}
		int rc = git_credential_userpass_plaintext_new(out, user ? user : "git", pw);
		explicit_bzero(pw, strlen(pw));
		free(pw);
		return rc;
	}
	if (allowed & GIT_CREDENTIAL_USERNAME)
		return git_credential_username_new(out, user ? user : "git");
	r->auth_failed = true;
	set_cb_error(r, "authentication failed for %s: the server asks for credentials but none are configured "
			"(%s)",
		     r->display,
		     (allowed & GIT_CREDENTIAL_SSH_KEY) ? "give an SSH key file" : "give a password or token file");
	return GIT_EAUTH;
}

static const char *ssh_key_type_name(git_cert_ssh_raw_type_t t)
{
	switch (t) {
	case GIT_CERT_SSH_RAW_TYPE_RSA: return "ssh-rsa";
	case GIT_CERT_SSH_RAW_TYPE_DSS: return "ssh-dss";
	case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_256: return "ecdsa-sha2-nistp256";
	case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_384: return "ecdsa-sha2-nistp384";
	case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_521: return "ecdsa-sha2-nistp521";
	case GIT_CERT_SSH_RAW_TYPE_KEY_ED25519: return "ssh-ed25519";
	default: return NULL;
	}
}

static int cb_certificate(git_cert *cert, int valid, const char *host, void *payload)
{
	sync_repo *r = payload;
	if (past_deadline(r))
		return -1;
	if (cert->cert_type != GIT_CERT_HOSTKEY_LIBSSH2)
		return valid ? 0 : GIT_PASSTHROUGH; /* TLS: libgit2's verification against the CAs decides */
	git_cert_hostkey *hk = (git_cert_hostkey *)cert;
	const char *type = (hk->type & GIT_CERT_SSH_RAW) ? ssh_key_type_name(hk->raw_type) : NULL;
	if (!type) {
		set_cb_error(r, "the SSH server %s offered a host key of a type flinkops cannot check", host);
		return GIT_ECERTIFICATE;
	}
	char *b64 = fo_base64_encode(hk->hostkey, hk->hostkey_len);
	char *fp = NULL;
	{
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned int mdlen = 0;
		EVP_Digest(hk->hostkey, hk->hostkey_len, md, &mdlen, EVP_sha256(), NULL);
		fp = fo_base64_encode(md, mdlen);
		size_t l = strlen(fp);
		while (l > 0 && fp[l - 1] == '=')
			fp[--l] = '\0';
	}
	char *h = NULL;
	int port = 22;
	if (!url_host_port(r->url, &h, &port))
		h = fo_strdup(host);
	char *name = port != 22 ? fo_asprintf("[%s]:%d", h, port) : fo_strdup(h);
	enum sync_host_key verdict = SYNC_HOST_KEY_UNKNOWN;
	int rc = GIT_ECERTIFICATE;
	if (r->ssh_known_hosts) {
		char *text = NULL;
		size_t len = 0;
		fo_err fe = FO_ERR_INIT;
		if (fo_fs_read(r->ssh_known_hosts, 16 * 1024 * 1024, &text, &len, &fe) < 0) {
			set_cb_error(r, "cannot read known_hosts: %s", fo_err_msg(&fe));
			fo_err_clear(&fe);
			goto cleanup;
		}
		verdict = sync_known_hosts_check(text, len, h, port, type, b64);
		free(text);
	}
	if (verdict == SYNC_HOST_KEY_KNOWN) {
		rc = 0;
	} else if (verdict == SYNC_HOST_KEY_CHANGED) {
		set_cb_error(r, "the host key of %s CHANGED: it offered %s SHA256:%s, which is not the key %s lists; "
				"refusing to connect (if the server's key was really replaced, update %s)",
			     name, type, fp, r->ssh_known_hosts, r->ssh_known_hosts);
	} else if (r->ssh_accept_unknown) {
		fo_warn("sync", "accepting the unknown host key of %s (%s SHA256:%s) as configured", name, type, fp);
		rc = 0;
	} else {
		set_cb_error(r, "the host key of %s (%s SHA256:%s) is unknown: it is not in %s; add the line \"%s %s %s\" "
				"there after checking the fingerprint, or allow unknown host keys",
			     name, type, fp, r->ssh_known_hosts ? r->ssh_known_hosts : "any known_hosts file (none given)",
			     name, type, b64);
	}
cleanup:
	free(b64);
	free(fp);
	free(h);
	free(name);
	return rc;
}

static int cb_transfer(const git_indexer_progress *stats, void *payload)
{
	(void)stats;
	return past_deadline(payload) ? -1 : 0;
}

static int cb_sideband(const char *str, int len, void *payload)
{
	(void)str;
	(void)len;
	return past_deadline(payload) ? -1 : 0;
}

static int cb_pack(int stage, uint32_t current, uint32_t total, void *payload)
{
	(void)stage;
	(void)current;
	(void)total;
	return past_deadline(payload) ? -1 : 0;
}

static int cb_push_transfer(unsigned int current, unsigned int total, size_t bytes, void *payload)
{
	(void)current;
	(void)total;
	(void)bytes;
	return past_deadline(payload) ? -1 : 0;
}

static int cb_push_update(const char *refname, const char *status, void *payload)
{
	sync_repo *r = payload;
	if (status && !r->push_rejected)
		r->push_rejected = fo_asprintf("%s: %s", refname, status);
	return 0;
}

static void fill_callbacks(sync_repo *r, git_remote_callbacks *cb)
{
	cb->credentials = cb_credentials;
	cb->certificate_check = cb_certificate;
	cb->transfer_progress = cb_transfer;
	cb->sideband_progress = cb_sideband;
	cb->pack_progress = cb_pack;
	cb->push_transfer_progress = cb_push_transfer;
	cb->push_update_reference = cb_push_update;
	cb->payload = r;
}

/* ---- open ---- */

static void copy_auth(sync_repo *r, const sync_auth *a)
{
	if (!a)
		return;
	r->username = a->username ? fo_strdup(a->username) : NULL;
	r->password_file = a->password_file ? fo_strdup(a->password_file) : NULL;
	r->ca_file = a->ca_file ? fo_strdup(a->ca_file) : NULL;
	r->ssh_key_file = a->ssh_key_file ? fo_strdup(a->ssh_key_file) : NULL;
	r->ssh_known_hosts = a->ssh_known_hosts ? fo_strdup(a->ssh_known_hosts) : NULL;
	r->ssh_accept_unknown = a->ssh_accept_unknown;
	r->timeout = a->timeout_seconds;
}

static int mkdir_p(const char *dir, fo_err *e)
{
	char *p = fo_strdup(dir);
	int rc = 0;
	for (char *s = p + 1;; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;
			*s = '\0';
			if (mkdir(p, 0700) != 0 && errno != EEXIST) {
				rc = fo_err_set(e, FO_EIO, "cannot create the cache folder %s: %s", p, strerror(errno));
				break;
			}
			*s = c;
			if (c == '\0')
				break;
		}
	}
	free(p);
	return rc;
}

/* A folder name for the URL: its last path element (for people) and a hash (for uniqueness). */
static char *cache_name(const char *url)
{
	/* keyed by the URL without its password: a new password keeps the cache */
	char *d = fo_url_without_password(url);
	size_t l = strlen(d);
	while (l > 0 && d[l - 1] == '/')
		l--;
	size_t s = l;
	while (s > 0 && d[s - 1] != '/' && d[s - 1] != ':')
		s--;
	fo_buf b = FO_BUF_INIT;
	for (size_t i = s; i < l && b.len < 40; i++) {
		char c = d[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
			  c == '_' || (c == '.' && i > s);
		fo_buf_putc(&b, ok ? c : '_');
	}
	if (fo_has_suffix(fo_buf_cstr(&b), ".git"))
		b.ptr[b.len -= 4] = '\0';
	char *h = fo_sha256_hex(d, strlen(d));
	char *name = fo_asprintf("%s%s%.16s.git", fo_buf_cstr(&b), b.len ? "-" : "", h);
	free(h);
	free(d);
	fo_buf_free(&b);
	return name;
}

/* Packs open at once: a lookup in a pack beyond these closes the least
 * recently used one (a cheap reopen: the packs of a cache are small). */
#define PACK_FILES_OPEN 8
/* Pack windows mapped at once, and objects kept parsed: a pass reads one
 * commit's tree and a few hundred small blobs. */
#define PACK_MAPPED_BYTES (32u << 20)
#define OBJECT_CACHE_BYTES (4 << 20)

void sync_global_init(void)
{
	git_libgit2_init();
	git_libgit2_opts(GIT_OPT_SET_MWINDOW_FILE_LIMIT, (size_t)PACK_FILES_OPEN);
	git_libgit2_opts(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT, (size_t)PACK_MAPPED_BYTES);
	git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE, (ssize_t)OBJECT_CACHE_BYTES);
}

int sync_open(const char *url, const char *cache_dir, const sync_auth *auth, sync_repo **out, fo_err *e)
{
	*out = NULL;
	if (!url || !*url)
		return fo_err_set(e, FO_EINVAL, "no repository URL given");
	if (!cache_dir || !*cache_dir) {
		char *shown = fo_url_redact(url);
		int rc = fo_err_set(e, FO_EINVAL, "no cache folder given for %s", shown);
		free(shown);
		return rc;
	}
	sync_repo *r = fo_calloc(1, sizeof(*r));
	/* a plain local path is reached through the file transport */
	if (!strstr(url, "://") && (url[0] == '/' || url[0] == '.')) {
		char *abs = realpath(url, NULL);
		r->url = fo_asprintf("file://%s", abs ? abs : url);
		free(abs);
	} else {
		r->url = fo_strdup(url);
	}
	r->display = fo_url_redact(url);
	copy_auth(r, auth);
	int rc = mkdir_p(cache_dir, e);
	if (rc < 0)
		goto fail;
	char *name = cache_name(r->url);
	r->path = fo_asprintf("%s/%s", cache_dir, name);
	free(name);
	struct stat st;
	if (stat(r->path, &st) == 0) {
		int g = git_repository_open_bare(&r->repo, r->path);
		if (g < 0) {
			rc = fo_err_set(e, FO_EIO, "the cache %s of %s is not a git repository (%s); delete it to clone again",
					r->path, r->display, git_msg());
			goto fail;
		}
	} else {
		/* create it under a temporary name and rename: a crash never leaves half a cache */
		char *tmp = fo_asprintf("%s.tmp-%d", r->path, (int)getpid());
		int g = git_repository_init(&r->repo, tmp, 1);
		if (g == 0 && rename(tmp, r->path) != 0) {
			rc = fo_err_set(e, FO_EIO, "cannot create the cache %s: %s", r->path, strerror(errno));
			free(tmp);
			goto fail;
		}
		free(tmp);
		if (g < 0) {
			rc = fo_err_set(e, FO_EIO, "cannot create the cache %s: %s", r->path, git_msg());
			goto fail;
		}
		git_repository_free(r->repo);
		r->repo = NULL;
		if (git_repository_open_bare(&r->repo, r->path) < 0) {
			rc = fo_err_set(e, FO_EIO, "cannot open the cache %s: %s", r->path, git_msg());
			goto fail;
		}
	}
	*out = r;
	return 0;
fail:
	sync_free(r);
	return rc;
}

int sync_open_local(const char *dir, sync_repo **out, fo_err *e)
{
	*out = NULL;
	sync_repo *r = fo_calloc(1, sizeof(*r));
	r->local = true;
	r->url = fo_strdup(dir);
	r->display = fo_strdup(dir);
	r->path = fo_strdup(dir);
	if (git_repository_open_ext(&r->repo, dir, 0, NULL) < 0) {
		int rc = fo_err_set(e, FO_ENOTFOUND, "%s is not a git repository: %s", dir, git_msg());
		sync_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void sync_free(sync_repo *r)
{
	if (!r)
		return;
	git_repository_free(r->repo);
	free(r->url);
	free(r->display);
	free(r->path);
	free(r->username);
	free(r->password_file);
	free(r->ca_file);
	free(r->ssh_key_file);
	free(r->ssh_known_hosts);
	free(r->cb_error);
	free(r->push_rejected);
	free(r);
}

const char *sync_display_url(const sync_repo *r)
{
	return r ? r->display : "";
}

/* ---- fetch and resolve ---- */

static void oid_hex(const git_oid *id, char out[SYNC_OID_HEX])
{
	git_oid_tostr(out, SYNC_OID_HEX, id);
}

/* An in-memory remote for the URL. The user's url.*.insteadOf rules are not
 * applied: the agent reaches exactly the URL it was given. */
static int anonymous_remote(sync_repo *r, git_remote **out)
{
	git_remote_create_options o;
	git_remote_create_options_init(&o, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	o.repository = r->repo;
	o.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	return git_remote_create_with_opts(out, r->url, &o);
}

static int fetch_in_worker(sync_repo *r, void *arg, fo_err *e)
{
	(void)arg;
	start_op(r);
	if (r->ca_file && git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, r->ca_file, NULL) < 0)
		return fo_err_set(e, FO_EINVAL, "cannot use the CA file %s: %s", r->ca_file, git_msg());
	int rc = probe(r, e);
	if (rc < 0)
		return fo_err_prefix(e, "fetch");
	git_remote *remote = NULL;
	int g = anonymous_remote(r, &remote);
	if (g < 0)
		return fo_err_set(e, FO_EINVAL, "remote %s: %s; check the URL", r->display, git_msg());
	git_fetch_options fo;
	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	fill_callbacks(r, &fo.callbacks);
	fo.prune = GIT_FETCH_PRUNE;
	fo.update_fetchhead = 0;
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	char *specs[] = {"+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"};
	git_strarray arr = {specs, 2};
	g = git_remote_fetch(remote, &arr, &fo, "flinkops: fetch");
	if (g < 0)
		rc = net_error(r, g, e, "fetch from");
	git_remote_free(remote);
	return rc;
}

/* ---- network operations in a worker process ---- */

/* The argument that turns a flinkops binary into a git worker (sync_worker_main). */
#define WORKER_ARG "--sync-worker"
/* A request is a handful of paths; it is written into the pipe before the
 * worker starts, so it must fit the pipe's buffer (64 KiB on Linux). */
#define WORKER_REQUEST_MAX 32768
#define WORKER_REPLY_MAX 65536

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void json_put_str(cJSON *o, const char *key, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, key, v);
}

/* The worker's request: what it needs to open the cache and reach the
 * remote. Secrets stay in their files; only the paths travel. */
static char *worker_request(const sync_repo *r, const char *op, const char *branch)
{
	cJSON *o = cJSON_CreateObject();
	json_put_str(o, "op", op);
	json_put_str(o, "branch", branch);
	json_put_str(o, "path", r->path);
	json_put_str(o, "url", r->url);
	json_put_str(o, "display", r->display);
	json_put_str(o, "username", r->username);
	json_put_str(o, "passwordFile", r->password_file);
	json_put_str(o, "caFile", r->ca_file);
	json_put_str(o, "sshKeyFile", r->ssh_key_file);
	json_put_str(o, "sshKnownHosts", r->ssh_known_hosts);
	cJSON_AddBoolToObject(o, "sshAcceptUnknown", r->ssh_accept_unknown);
	cJSON_AddNumberToObject(o, "timeout", r->timeout);
	char *text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

static char *json_dup(const cJSON *o, const char *key)
{
	const char *v = fo_json_str(o, key);
	return v ? fo_strdup(v) : NULL;
}

/* The path of the running program, for the worker to run again. */
static char *self_exe(void)
{
	size_t cap = 256;
	for (;;) {
		char *p = fo_calloc(1, cap);
		ssize_t n = readlink("/proc/self/exe", p, cap);
		if (n < 0) {
			free(p);
			return NULL;
		}
		if ((size_t)n < cap)
			return p;
		free(p);
		if (cap > (1u << 16))
			return NULL;
		cap *= 2;
	}
}

/*
 * Run a fetch or a push (`op`) in a worker process and wait for it at most
 * the timeout, then kill it. libgit2 1.5 blocks in read() with no timeout
 * when a server accepts a connection and stays silent; a worker can be
 * killed at any point without leaving the cache half-written, because git
 * writes packs to temporary files and moves refs only at the end. The
 * worker is this same program started afresh (posix_spawn, never fork: the
 * daemon has threads, and a forked child of a threaded process may hang on
 * a lock another thread held); its request goes in through a pipe on its
 * stdin, its result (code and message) comes back through one on its stdout.
 */
static int bounded(sync_repo *r, const char *op, const char *branch, const atomic_bool *stop, fo_err *e)
{
	int rc = 0;
	int in[2] = {-1, -1}, out[2] = {-1, -1};
	char *req = worker_request(r, op, branch);
	char *exe = self_exe();
	fo_buf b = FO_BUF_INIT;
	bool fa_init = false, at_init = false;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	pid_t pid = -1;

	if (!exe) {
		rc = fo_err_set(e, FO_EIO, "%s: cannot find the flinkops program to run the git worker: %s",
				r->display, strerror(errno));
		goto cleanup;
	}
	if (!req || strlen(req) > WORKER_REQUEST_MAX) {
		rc = fo_err_set(e, FO_EINVAL, "%s: the git worker's request is too long (paths over %d bytes)",
				r->display, WORKER_REQUEST_MAX);
		goto cleanup;
	}
	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
		rc = fo_err_set(e, FO_EIO, "%s: cannot make a pipe for the git worker: %s", r->display,
				strerror(errno));
		goto cleanup;
	}
	/* the whole request sits in the pipe before the worker starts: no write can block or raise SIGPIPE */
	write_all(in[1], req, strlen(req));
	close(in[1]);
	in[1] = -1;

	posix_spawn_file_actions_init(&fa);
	fa_init = true;
	posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
	posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1); /* sockets, the listener: not the worker's */
	posix_spawnattr_init(&at);
	at_init = true;
	sigset_t none, all;
	sigemptyset(&none);
	sigfillset(&all);
	/* the daemon blocks and handles signals in its own way; the worker starts with defaults */
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	char *argv[] = {exe, WORKER_ARG, NULL};
	fflush(stderr);
	int sp = posix_spawn(&pid, exe, &fa, &at, argv, environ);
	if (sp != 0) {
		pid = -1;
		rc = fo_err_set(e, FO_EIO, "%s: cannot start the git worker %s: %s", r->display, exe, strerror(sp));
		goto cleanup;
	}
	close(in[0]);
	in[0] = -1;
	close(out[1]);
	out[1] = -1;

	int secs = r->timeout > 0 ? r->timeout : DEFAULT_TIMEOUT;
	double deadline = now_s() + secs + 2;
	bool timed_out = false, stopped = false;
	for (;;) {
		double left = deadline - now_s();
		if (left <= 0) {
			timed_out = true;
			break;
		}
		if (stop && atomic_load(stop)) {
			stopped = true;
			break;
		}
		/* with a stop request to watch, look at it every 100 ms */
		int wait_ms = (int)(left * 1000) + 1;
		if (stop && wait_ms > 100)
			wait_ms = 100;
		struct pollfd pf = {out[0], POLLIN, 0};
		int pr = poll(&pf, 1, wait_ms);
		if (pr <= 0)
			continue;
		char chunk[4096];
		ssize_t n = read(out[0], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (b.len < WORKER_REPLY_MAX)
			fo_buf_put(&b, chunk, (size_t)n);
	}
	if (timed_out || stopped)
		kill(pid, SIGKILL);
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	pid = -1;
	if (r->alive)
		atomic_store(r->alive, (long long)fo_mono_ms());
	const char *msg = fo_buf_cstr(&b);
	const char *nl = strchr(msg, '\n');
	if (stopped)
		rc = fo_err_set(e, FO_ESTOPPED, "%s: the %s was interrupted by stop request; the cache is left as it was",
				r->display, op);
	else if (timed_out)
		rc = fo_err_set(e, FO_ETIMEOUT,
				"%s: no answer within %d s (the server accepted the connection but stalled); the cache is "
				"left as it was; check the server or raise the timeout",
				r->display, secs);
	else if (!nl)
		rc = fo_err_set(e, FO_ENET, "%s: the git worker process ended without a result (%s %d)", r->display,
				WIFSIGNALED(st) ? "signal" : "status", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	else if ((rc = atoi(msg)) < 0)
		fo_err_set(e, rc, "%s", nl + 1);
	else
		rc = 0;
cleanup:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	if (fa_init)
		posix_spawn_file_actions_destroy(&fa);
	if (at_init)
		posix_spawnattr_destroy(&at);
	fo_buf_free(&b);
	free(exe);
	free(req);
	return rc;
}

static int push_in_worker(sync_repo *r, void *arg, fo_err *e);

/* The worker's side: read the request, open the cache, run the operation. */
static int worker_run(fo_err *e)
{
	fo_buf in = FO_BUF_INIT;
	cJSON *req = NULL;
	sync_repo *r = NULL;
	int rc = 0;
	for (;;) {
		char chunk[4096];
		ssize_t n = read(STDIN_FILENO, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		fo_buf_put(&in, chunk, (size_t)n);
		if (in.len > WORKER_REQUEST_MAX) {
			rc = fo_err_set(e, FO_EINVAL, "git worker: request over %d bytes", WORKER_REQUEST_MAX);
			goto cleanup;
		}
	}
	req = cJSON_Parse(fo_buf_cstr(&in));
	const char *op = fo_json_str(req, "op");
	const char *path = fo_json_str(req, "path");
	if (!req || !op || !path || !fo_json_str(req, "url") || !fo_json_str(req, "display")) {
		rc = fo_err_set(e, FO_EINVAL, "git worker: the request does not decode");
		goto cleanup;
	}
	r = fo_calloc(1, sizeof(*r));
	r->url = json_dup(req, "url");
	r->display = json_dup(req, "display");
	r->path = json_dup(req, "path");
	r->username = json_dup(req, "username");
	r->password_file = json_dup(req, "passwordFile");
	r->ca_file = json_dup(req, "caFile");
	r->ssh_key_file = json_dup(req, "sshKeyFile");
	r->ssh_known_hosts = json_dup(req, "sshKnownHosts");
	r->ssh_accept_unknown = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "sshAcceptUnknown"));
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(req, "timeout");
	r->timeout = cJSON_IsNumber(t) && t->valuedouble > 0 && t->valuedouble < 86400 ? (int)t->valuedouble : 0;
	if (git_repository_open_bare(&r->repo, r->path) < 0) {
		rc = fo_err_set(e, FO_EIO, "cannot open the cache %s of %s: %s", r->path, r->display, git_msg());
		goto cleanup;
	}
	if (strcmp(op, "fetch") == 0)
		rc = fetch_in_worker(r, NULL, e);
	else if (strcmp(op, "push") == 0 && fo_json_str(req, "branch"))
		rc = push_in_worker(r, (void *)fo_json_str(req, "branch"), e);
	else
		rc = fo_err_set(e, FO_EINVAL, "git worker: unknown operation \"%s\"", op);
cleanup:
	sync_free(r);
	cJSON_Delete(req);
	fo_buf_free(&in);
	return rc;
}

bool sync_worker_main(int argc, char **argv, int *status)
{
	if (argc != 2 || strcmp(argv[1], WORKER_ARG) != 0)
		return false;
	fo_err e = FO_ERR_INIT;
	int rc = worker_run(&e);
	char *out = fo_asprintf("%d\n%s", rc, rc < 0 ? fo_err_msg(&e) : "");
	write_all(STDOUT_FILENO, out, strlen(out));
	free(out);
	fo_err_clear(&e);
	*status = 0;
	return true;
}

/* A fetch; `stop` (may be NULL) ends it at once. */
static int do_fetch(sync_repo *r, const atomic_bool *stop, fo_err *e)
{
	return bounded(r, "fetch", NULL, stop, e);
}

void sync_repo_set_watch(sync_repo *r, const atomic_bool *stop, atomic_llong *alive)
{
	r->stop = stop;
	r->alive = alive;
}

/* Resolve a name to a commit: the rev as given, the remote-tracking branch, the tag. */
static int resolve(sync_repo *r, const char *rev, git_oid *out)
{
	/* in place, the local branch first; in a cache, its own branches mean nothing */
	const char *fmts[] = {"refs/heads/%s", "refs/remotes/origin/%s", "refs/tags/%s", "%s"};
	for (size_t i = 0; i < FO_ARRAY_LEN(fmts); i++) {
		if (i == 0 && !r->local)
			continue;
		char *name = fo_asprintf(fmts[i], rev);
		git_object *obj = NULL;
		int g = git_revparse_single(&obj, r->repo, name);
		free(name);
		if (g < 0)
			continue;
		git_object *commit = NULL;
		g = git_object_peel(&commit, obj, GIT_OBJECT_COMMIT);
		git_object_free(obj);
		if (g < 0)
			continue;
		git_oid_cpy(out, git_object_id(commit));
		git_object_free(commit);
		return 0;
	}
	return -1;
}

int sync_resolve(sync_repo *r, const char *rev, char commit[SYNC_OID_HEX], fo_err *e)
{
	git_oid id;
	commit[0] = '\0';
	if (!rev || !*rev)
		return fo_err_set(e, FO_EINVAL, "no revision given");
	if (resolve(r, rev, &id) < 0)
		return fo_err_set(e, FO_ENOTFOUND,
				  "revision \"%s\" not found in %s; check the branch, tag or commit name (and that it was pushed)",
				  rev, r->display);
	oid_hex(&id, commit);
	return 0;
}

int sync_fetch(sync_repo *r, const char *ref, char commit[SYNC_OID_HEX], fo_err *e)
{
	commit[0] = '\0';
	if (!ref || !*ref)
		ref = "main";
	if (!r->local) {
		int rc = do_fetch(r, r->stop, e);
		if (rc < 0)
			return rc;
	}
	return sync_resolve(r, ref, commit, e);
}

static int lookup_commit(sync_repo *r, const char *hex, git_commit **out, fo_err *e)
{
	git_oid id;
	if (git_oid_fromstr(&id, hex) < 0 && resolve(r, hex, &id) < 0)
		return fo_err_set(e, FO_EINVAL, "\"%s\" is not a commit id in %s", hex, r->display);
	if (git_commit_lookup(out, r->repo, &id) < 0)
		return fo_err_set(e, FO_ENOTFOUND, "commit %s is not in %s (fetch it first)", hex, r->display);
	return 0;
}

bool sync_has_commit(sync_repo *r, const char *commit)
{
	git_commit *c = NULL;
	if (lookup_commit(r, commit, &c, NULL) < 0)
		return false;
	git_commit_free(c);
	return true;
}

int sync_is_ancestor(sync_repo *r, const char *ancestor, const char *descendant, bool *out, fo_err *e)
{
	*out = false;
	git_commit *a = NULL, *d = NULL;
	int rc = lookup_commit(r, ancestor, &a, e);
	if (rc == 0)
		rc = lookup_commit(r, descendant, &d, e);
	if (rc == 0) {
		if (git_oid_equal(git_commit_id(a), git_commit_id(d))) {
			*out = true;
		} else {
			int g = git_graph_descendant_of(r->repo, git_commit_id(d), git_commit_id(a));
			if (g < 0)
				rc = fo_err_set(e, FO_EIO, "cannot walk the history of %s: %s", r->display, git_msg());
			else
				*out = g == 1;
		}
	}
	git_commit_free(a);
	git_commit_free(d);
	return rc;
}

int sync_parent(sync_repo *r, const char *commit, char parent[SYNC_OID_HEX], fo_err *e)
{
	parent[0] = '\0';
	git_commit *c = NULL;
	int rc = lookup_commit(r, commit, &c, e);
	if (rc < 0)
		return rc;
	if (git_commit_parentcount(c) > 0)
		oid_hex(git_commit_parent_id(c, 0), parent);
	git_commit_free(c);
	return 0;
}

/* ---- reading trees ---- */

typedef struct select_rules {
	const char *folder; /* without trailing slash; "" for the root */
	const char *glob;   /* NULL: *.yaml and *.yml */
	const char *status; /* without trailing slash */
	size_t max_bytes;
} select_rules;

static void rules_from(const sync_select *sel, select_rules *s, char **folder, char **status)
{
	const char *f = sel && sel->folder ? sel->folder : "";
	const char *st = sel && sel->status_folder ? sel->status_folder : "status";
	while (*f == '/' || (f[0] == '.' && f[1] == '/'))
		f += *f == '/' ? 1 : 2;
	if (strcmp(f, ".") == 0)
		f = "";
	*folder = fo_strdup(f);
	size_t l = strlen(*folder);
	while (l > 0 && (*folder)[l - 1] == '/')
		(*folder)[--l] = '\0';
	*status = fo_strdup(st);
	l = strlen(*status);
	while (l > 0 && (*status)[l - 1] == '/')
		(*status)[--l] = '\0';
	s->folder = *folder;
	s->status = *status;
	s->glob = sel && sel->glob && *sel->glob ? sel->glob : NULL;
	s->max_bytes = sel && sel->max_bytes ? sel->max_bytes : DEFAULT_MAX_BYTES;
}

static bool in_folder(const char *path, const char *folder)
{
	size_t l = strlen(folder);
	return l > 0 && strncmp(path, folder, l) == 0 && path[l] == '/';
}

/* Whether a blob at `path` (repository-relative) is a manifest. */
static bool selected(const select_rules *s, const char *path)
{
	if (*s->folder && !in_folder(path, s->folder))
		return false;
	if (*s->status && in_folder(path, s->status))
		return false;
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (!s->glob)
		return fo_has_suffix(base, ".yaml") || fo_has_suffix(base, ".yml");
	if (strchr(s->glob, '/')) {
		const char *rel = *s->folder ? path + strlen(s->folder) + 1 : path;
		return fnmatch(s->glob, rel, FNM_PATHNAME) == 0;
	}
	return fnmatch(s->glob, base, 0) == 0;
}

static int commit_tree(sync_repo *r, const char *commit, git_tree **tree, fo_err *e)
{
	git_commit *c = NULL;
	int rc = lookup_commit(r, commit, &c, e);
	if (rc < 0)
		return rc;
	if (git_commit_tree(tree, c) < 0)
		rc = fo_err_set(e, FO_EIO, "cannot read the tree of %s in %s: %s", commit, r->display, git_msg());
	git_commit_free(c);
	return rc;
}

typedef struct walk_ctx {
	sync_repo *r;
	const select_rules *s;
	git_odb *odb;
	sync_files *out;
	fo_diags *notes;
	fo_err *e;
	int rc;
	size_t count, bytes;
} walk_ctx;

static void files_add(sync_files *f, const char *path, const git_oid *id, const void *data, size_t len)
{
	f->v = fo_grow(f->v, &f->cap, f->n + 1, sizeof(*f->v));
	sync_file *x = &f->v[f->n++];
	x->path = fo_strdup(path);
	oid_hex(id, x->blob);
	x->data = fo_malloc(len + 1);
	memcpy(x->data, data, len);
	x->data[len] = '\0';
	x->len = len;
}

static int walk_cb(const char *root, const git_tree_entry *entry, void *payload)
{
	walk_ctx *w = payload;
	const char *name = git_tree_entry_name(entry);
	git_filemode_t mode = git_tree_entry_filemode(entry);
	char *path = fo_asprintf("%s%s", root, name);
	int ret = 0;
	if (mode == GIT_FILEMODE_TREE) {
		/* skip the status folder and whatever lies outside the manifest folder */
		if (*w->s->status && strcmp(path, w->s->status) == 0)
			ret = 1;
		else if (*w->s->folder && !(strcmp(path, w->s->folder) == 0 || in_folder(w->s->folder, path) ||
					   in_folder(path, w->s->folder)))
			ret = 1;
		goto done;
	}
	if (!selected(w->s, path))
		goto done;
	if (mode != GIT_FILEMODE_BLOB && mode != GIT_FILEMODE_BLOB_EXECUTABLE) {
		/* A link is not followed (it could point anywhere in the tree, or
		 * outside it), but a manifest that is skipped is an error: the
		 * deployment it may define is unknown, so nothing may be pruned. */
		if (w->notes && mode == GIT_FILEMODE_LINK)
			fo_diag_add(w->notes, FO_SEV_ERROR, path, 0, 0,
				    "skipped: a symbolic link is not followed; commit the file itself");
		goto done;
	}
	size_t size = 0;
	git_object_t type;
	if (git_odb_read_header(&size, &type, w->odb, git_tree_entry_id(entry)) < 0) {
		w->rc = fo_err_set(w->e, FO_EIO, "cannot read %s in %s: %s", path, w->r->display, git_msg());
		ret = -1;
		goto done;
	}
	if (size > w->s->max_bytes) {
		if (w->notes)
			fo_diag_add(w->notes, FO_SEV_ERROR, path, 0, 0,
				    "skipped: %zu bytes is more than the limit of %zu bytes for a manifest; "
				    "split it into smaller files",
				    size, w->s->max_bytes);
		goto done;
	}
	if (++w->count > MAX_MANIFESTS || (w->bytes += size) > MAX_MANIFEST_BYTES) {
		w->rc = fo_err_set(w->e, FO_ETOOBIG,
				   "%s holds more than %d manifests or %u MiB of them; narrow the folder or glob",
				   w->r->display, MAX_MANIFESTS, MAX_MANIFEST_BYTES >> 20);
		ret = -1;
		goto done;
	}
	git_blob *blob = NULL;
	if (git_blob_lookup(&blob, w->r->repo, git_tree_entry_id(entry)) < 0) {
		w->rc = fo_err_set(w->e, FO_EIO, "cannot read %s in %s: %s", path, w->r->display, git_msg());
		ret = -1;
		goto done;
	}
	files_add(w->out, path, git_tree_entry_id(entry), git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
	git_blob_free(blob);
done:
	free(path);
	return ret;
}

static int cmp_file(const void *a, const void *b)
{
	return strcmp(((const sync_file *)a)->path, ((const sync_file *)b)->path);
}

int sync_read_manifests(sync_repo *r, const char *commit, const sync_select *sel, sync_files *out, fo_diags *notes,
			fo_err *e)
{
	select_rules s;
	char *folder = NULL, *status = NULL;
	rules_from(sel, &s, &folder, &status);
	git_tree *tree = NULL;
	git_odb *odb = NULL;
	int rc = commit_tree(r, commit, &tree, e);
	if (rc < 0)
		goto cleanup;
	if (git_repository_odb(&odb, r->repo) < 0) {
		rc = fo_err_set(e, FO_EIO, "cannot open the object database of %s: %s", r->display, git_msg());
		goto cleanup;
	}
	walk_ctx w = {r, &s, odb, out, notes, e, 0, 0, 0};
	size_t first = out->n;
	if (git_tree_walk(tree, GIT_TREEWALK_PRE, walk_cb, &w) < 0) {
		rc = w.rc ? w.rc : fo_err_set(e, FO_EIO, "cannot walk the tree of %s: %s", commit, git_msg());
		goto cleanup;
	}
	if (out->n > first)
		qsort(out->v + first, out->n - first, sizeof(*out->v), cmp_file);
cleanup:
	git_odb_free(odb);
	git_tree_free(tree);
	free(folder);
	free(status);
	return rc;
}

void sync_files_free(sync_files *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++) {
		free(f->v[i].path);
		free(f->v[i].data);
	}
	free(f->v);
	f->v = NULL;
	f->n = f->cap = 0;
}

int sync_read_file(sync_repo *r, const char *commit, const char *path, char **data, size_t *len, fo_err *e)
{
	*data = NULL;
	*len = 0;
	git_tree *tree = NULL;
	git_tree_entry *ent = NULL;
	git_blob *blob = NULL;
	int rc = commit_tree(r, commit, &tree, e);
	if (rc < 0)
		return rc;
	if (git_tree_entry_bypath(&ent, tree, path) < 0) {
		rc = fo_err_set(e, FO_ENOTFOUND, "%s: not found at %.12s in %s", path, commit, r->display);
		goto cleanup;
	}
	git_filemode_t mode = git_tree_entry_filemode(ent);
	if (mode != GIT_FILEMODE_BLOB && mode != GIT_FILEMODE_BLOB_EXECUTABLE) {
		rc = fo_err_set(e, FO_ENOTFOUND, "%s: not a regular file at %.12s in %s", path, commit, r->display);
		goto cleanup;
	}
	if (git_blob_lookup(&blob, r->repo, git_tree_entry_id(ent)) < 0) {
		rc = fo_err_set(e, FO_EIO, "%s: cannot read at %.12s in %s: %s", path, commit, r->display, git_msg());
		goto cleanup;
	}
	*len = (size_t)git_blob_rawsize(blob);
	*data = fo_malloc(*len + 1);
	memcpy(*data, git_blob_rawcontent(blob), *len);
	(*data)[*len] = '\0';
cleanup:
	git_blob_free(blob);
	git_tree_entry_free(ent);
	git_tree_free(tree);
	return rc;
}

/* ---- change detection ---- */

static bool is_file_mode(uint16_t mode)
{
	return mode == GIT_FILEMODE_BLOB || mode == GIT_FILEMODE_BLOB_EXECUTABLE;
}

int sync_diff(sync_repo *r, const char *old_commit, const char *new_commit, const sync_select *sel, sync_changes *out,
	      fo_err *e)
{
	select_rules s;
	char *folder = NULL, *status = NULL;
	rules_from(sel, &s, &folder, &status);
	git_tree *ot = NULL, *nt = NULL;
	git_diff *diff = NULL;
	out->rewritten = false;
	int rc = 0;
	if (old_commit && *old_commit) {
		rc = commit_tree(r, old_commit, &ot, e);
		if (rc < 0)
			goto cleanup;
		bool anc = false;
		rc = sync_is_ancestor(r, old_commit, new_commit, &anc, e);
		if (rc < 0)
			goto cleanup;
		out->rewritten = !anc;
	}
	rc = commit_tree(r, new_commit, &nt, e);
	if (rc < 0)
		goto cleanup;
	git_diff_options o;
	git_diff_options_init(&o, GIT_DIFF_OPTIONS_VERSION);
	o.flags = GIT_DIFF_SKIP_BINARY_CHECK | GIT_DIFF_IGNORE_SUBMODULES;
	char *spec = *folder ? folder : NULL;
	if (spec) {
		o.pathspec.strings = &spec;
		o.pathspec.count = 1;
	}
	if (git_diff_tree_to_tree(&diff, r->repo, ot, nt, &o) < 0) {
		rc = fo_err_set(e, FO_EIO, "cannot compare %s and %s in %s: %s", old_commit ? old_commit : "(none)",
				new_commit, r->display, git_msg());
		goto cleanup;
	}
	size_t n = git_diff_num_deltas(diff);
	for (size_t i = 0; i < n; i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		const char *path = d->new_file.path ? d->new_file.path : d->old_file.path;
		if (!selected(&s, path))
			continue;
		bool had = d->status != GIT_DELTA_ADDED && is_file_mode(d->old_file.mode);
		bool has = d->status != GIT_DELTA_DELETED && is_file_mode(d->new_file.mode);
		if (!had && !has)
			continue;
		if (had && has && git_oid_equal(&d->old_file.id, &d->new_file.id))
			continue; /* only the mode changed */
		out->v = fo_grow(out->v, &out->cap, out->n + 1, sizeof(*out->v));
		sync_change *c = &out->v[out->n++];
		memset(c, 0, sizeof(*c));
		c->kind = had && has ? SYNC_CHANGED : has ? SYNC_ADDED : SYNC_REMOVED;
		c->path = fo_strdup(path);
		if (had)
			oid_hex(&d->old_file.id, c->old_blob);
		if (has)
			oid_hex(&d->new_file.id, c->new_blob);
	}
cleanup:
	git_diff_free(diff);
	git_tree_free(ot);
	git_tree_free(nt);
	free(folder);
	free(status);
	return rc;
}

void sync_changes_free(sync_changes *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].path);
	free(c->v);
	c->v = NULL;
	c->n = c->cap = 0;
}

/* ---- status commits ---- */

static bool valid_put_path(const char *p)
{
	if (!p || !*p || p[0] == '/' || strlen(p) > 4096)
		return false;
	const char *s = p;
	while (*s) {
		size_t n = strcspn(s, "/");
		if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.') ||
		    (n == 4 && strncmp(s, ".git", 4) == 0))
			return false;
		s += n;
		if (*s == '/')
			s++;
		else
			break;
	}
	return p[strlen(p) - 1] != '/';
}

/* Build the commit of `puts` on `tip` (NULL: a new branch); *made false when nothing changes. */
static int build_commit(sync_repo *r, const git_oid *tip, const sync_put *puts, size_t n, const char *message,
			const sync_author *author, git_oid *out, bool *made, fo_err *e)
{
	git_commit *parent = NULL;
	git_tree *base = NULL, *tree = NULL;
	git_tree_update *ups = fo_calloc(n ? n : 1, sizeof(*ups));
	git_signature *sig = NULL;
	size_t nup = 0;
	int rc = 0;
	*made = false;
	if (tip) {
		if (git_commit_lookup(&parent, r->repo, tip) < 0 || git_commit_tree(&base, parent) < 0) {
			rc = fo_err_set(e, FO_EIO, "cannot read the branch tip in %s: %s", r->display, git_msg());
			goto cleanup;
		}
	} else {
		git_treebuilder *tb = NULL;
		git_oid empty;
		if (git_treebuilder_new(&tb, r->repo, NULL) < 0 || git_treebuilder_write(&empty, tb) < 0 ||
		    git_tree_lookup(&base, r->repo, &empty) < 0) {
			git_treebuilder_free(tb);
			rc = fo_err_set(e, FO_EIO, "cannot write an empty tree in %s: %s", r->display, git_msg());
			goto cleanup;
		}
		git_treebuilder_free(tb);
	}
	for (size_t i = 0; i < n; i++) {
		git_tree_entry *ent = NULL;
		bool exists = git_tree_entry_bypath(&ent, base, puts[i].path) == 0;
		git_oid id;
		if (puts[i].content) {
			if (git_blob_create_from_buffer(&id, r->repo, puts[i].content, strlen(puts[i].content)) < 0) {
				git_tree_entry_free(ent);
				rc = fo_err_set(e, FO_EIO, "cannot write %s in %s: %s", puts[i].path, r->display, git_msg());
				goto cleanup;
			}
			if (exists && git_tree_entry_filemode(ent) == GIT_FILEMODE_BLOB &&
			    git_oid_equal(&id, git_tree_entry_id(ent))) {
				git_tree_entry_free(ent);
				continue; /* same content: left out */
			}
			ups[nup].action = GIT_TREE_UPDATE_UPSERT;
			ups[nup].id = id;
			ups[nup].filemode = GIT_FILEMODE_BLOB;
		} else {
			if (!exists)
				continue;
			ups[nup].action = GIT_TREE_UPDATE_REMOVE;
		}
		git_tree_entry_free(ent);
		ups[nup].path = puts[i].path;
		nup++;
	}
	if (nup == 0)
		goto cleanup;
	git_oid tree_id;
	if (git_tree_create_updated(&tree_id, r->repo, base, nup, ups) < 0 ||
	    git_tree_lookup(&tree, r->repo, &tree_id) < 0) {
		rc = fo_err_set(e, FO_EIO, "cannot build the status tree in %s: %s", r->display, git_msg());
		goto cleanup;
	}
	const char *name = author && author->name ? author->name : "flinkops";
	const char *email = author && author->email ? author->email : "flinkops@localhost";
	if (git_signature_now(&sig, name, email) < 0) {
		rc = fo_err_set(e, FO_EINVAL, "bad commit author \"%s <%s>\": %s", name, email, git_msg());
		goto cleanup;
	}
	const git_commit *parents[1] = {parent};
	if (git_commit_create(out, r->repo, NULL, sig, sig, NULL, message, tree, parent ? 1 : 0, parents) < 0) {
		rc = fo_err_set(e, FO_EIO, "cannot write the status commit in %s: %s", r->display, git_msg());
		goto cleanup;
	}
	*made = true;
cleanup:
	git_signature_free(sig);
	git_tree_free(tree);
	git_tree_free(base);
	git_commit_free(parent);
	free(ups);
	return rc;
}

static int push_in_worker(sync_repo *r, void *arg, fo_err *e)
{
	const char *branch = arg;
	start_op(r);
	if (r->ca_file && git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, r->ca_file, NULL) < 0)
		return fo_err_set(e, FO_EINVAL, "cannot use the CA file %s: %s", r->ca_file, git_msg());
	int rc = probe(r, e);
	if (rc < 0)
		return fo_err_prefix(e, "push");
	git_remote *remote = NULL;
	if (anonymous_remote(r, &remote) < 0)
		return fo_err_set(e, FO_EINVAL, "remote %s: %s; check the URL", r->display, git_msg());
	git_push_options po;
	git_push_options_init(&po, GIT_PUSH_OPTIONS_VERSION);
	fill_callbacks(r, &po.callbacks);
	char *spec = fo_asprintf(PUSH_REF ":refs/heads/%s", branch); /* no "+": never a force push */
	git_strarray arr = {&spec, 1};
	int g = git_remote_push(remote, &arr, &po);
	if (g == GIT_ENONFASTFORWARD)
		rc = fo_err_set(e, FO_ECONFLICT, "push to %s branch %s was rejected: %s", r->display, branch, git_msg());
	else if (g < 0)
		rc = net_error(r, g, e, "push to");
	else if (r->push_rejected)
		rc = fo_err_set(e, FO_ECONFLICT, "push to %s was rejected: %s", r->display, r->push_rejected);
	free(spec);
	git_remote_free(remote);
	return rc;
}

static int push_once(sync_repo *r, const char *branch, const git_oid *id, fo_err *e)
{
	git_reference *ref = NULL;
	if (git_reference_create(&ref, r->repo, PUSH_REF, id, 1, "flinkops: status commit") < 0)
		return fo_err_set(e, FO_EIO, "cannot record the status commit in %s: %s", r->display, git_msg());
	git_reference_free(ref);
	return bounded(r, "push", branch, NULL, e);
}

int sync_commit_push_ex(sync_repo *r, const char *branch, const sync_put *puts, size_t n, const char *message,
			const sync_author *author, const sync_push_opts *opts, char commit[SYNC_OID_HEX], fo_err *e)
{
	commit[0] = '\0';
	int attempts = opts && opts->attempts > 0 ? opts->attempts : 5;
	long backoff = opts && opts->backoff_ms > 0 ? opts->backoff_ms : 200;
	if (attempts > 20)
		attempts = 20;
	if (!branch || !*branch)
		branch = "main";
	for (size_t i = 0; i < n; i++) {
		if (!valid_put_path(puts[i].path))
			return fo_err_set(e, FO_EINVAL, "status file path \"%s\" is not a clean relative path",
					  puts[i].path ? puts[i].path : "");
		for (size_t j = 0; j < i; j++)
			if (strcmp(puts[i].path, puts[j].path) == 0)
				return fo_err_set(e, FO_EINVAL, "status file %s is given twice in one commit", puts[i].path);
	}
	if (!message || !*message)
		return fo_err_set(e, FO_EINVAL, "a status commit needs a message");
	char *tracking = fo_asprintf(r->local ? "refs/heads/%s" : "refs/remotes/origin/%s", branch);
	unsigned seed = (unsigned)getpid() ^ (unsigned)time(NULL);
	int rc = 0, attempt = 0;
	bool stopped = false;
	const fo_fence *fence = opts ? opts->fence : NULL;
	for (attempt = 1; attempt <= attempts; attempt++) {
		/* a leader that lost its Lease writes nothing more: each attempt
		 * may come long after the pass checked it (a rejected push is
		 * rebuilt and retried, each step up to repository.timeout) */
		if ((rc = fo_fence_check(fence, "fetch and rebuild the status commit", e)) < 0)
			break;
		/* a status push still runs after the stop request: its fetch is
		 * bounded by the timeout, not cut */
		if (!r->local && (rc = do_fetch(r, NULL, e)) < 0)
			break;
		git_oid tip, id;
		bool has_tip = git_reference_name_to_id(&tip, r->repo, tracking) == 0;
		bool made = false;
		rc = build_commit(r, has_tip ? &tip : NULL, puts, n, message, author, &id, &made, e);
		if (rc < 0 || !made)
			break;
		if (opts && opts->before_push)
			opts->before_push(opts->ctx, attempt);
		if ((rc = fo_fence_check(fence, "push the status commit", e)) < 0)
			break;
		if (r->local) {
			git_reference *ref = NULL;
			int g = has_tip ? git_reference_create_matching(&ref, r->repo, tracking, &id, 1, &tip, message)
					: git_reference_create(&ref, r->repo, tracking, &id, 0, message);
			git_reference_free(ref);
			if (g == 0) {
				oid_hex(&id, commit);
				break;
			}
			rc = fo_err_set(e, g == GIT_EMODIFIED || g == GIT_EEXISTS ? FO_ECONFLICT : FO_EIO,
					"cannot update branch %s in %s: %s", branch, r->display, git_msg());
		} else {
			rc = push_once(r, branch, &id, e);
			if (rc == 0) {
				git_reference *ref = NULL;
				git_reference_create(&ref, r->repo, tracking, &id, 1, "flinkops: pushed status");
				git_reference_free(ref);
				oid_hex(&id, commit);
				break;
			}
		}
		if (rc != FO_ECONFLICT)
			break;
		if (attempt < attempts) {
			long ms = backoff + (long)(rand_r(&seed) % (unsigned)(backoff / 2 + 1));
			fo_info("sync", "status push to %s branch %s rejected (attempt %d of %d); rebuilding on the new tip in %ld ms",
				r->display, branch, attempt, attempts, ms);
			if (fo_pause_ms(ms, opts ? opts->stop : NULL)) {
				stopped = true;
				break;
			}
			backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
		}
	}
	if (opts && opts->attempts_used) /* an attempt the fence stopped pushed nothing */
		*opts->attempts_used = attempt > attempts ? attempts : rc == FO_EFENCED ? attempt - 1 : attempt;
	if (rc == FO_EFENCED)
		fo_err_prefix(e, "the lease was lost before status push attempt %d of %d; nothing more is pushed", attempt,
			      attempts);
	else if (rc == FO_ECONFLICT && stopped)
		fo_err_prefix(e, "not tried again after %d attempt%s (stopping; the next pass writes it)", attempt,
			      attempt == 1 ? "" : "s");
	else if (rc == FO_ECONFLICT)
		fo_err_prefix(e, "gave up after %d attempts (others keep pushing to %s; the next pass tries again)", attempts,
			      branch);
	free(tracking);
	return rc;
}

int sync_commit_push(sync_repo *r, const char *branch, const sync_put *puts, size_t n, const char *message,
		     const sync_author *author, int attempts, char commit[SYNC_OID_HEX], fo_err *e)
{
	sync_push_opts o = {0};
	o.attempts = attempts;
	return sync_commit_push_ex(r, branch, puts, n, message, author, &o, commit, e);
}
