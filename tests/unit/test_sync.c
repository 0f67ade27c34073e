/*
 * Unit tests for sync/ and its pure helpers: known_hosts matching, the
 * unified line diff (lib/diff.c) against what GNU diff -u prints, Go-style
 * durations as `wait` reads them, and — on repositories built with the git
 * command line in a temporary folder and reached over file:// — cloning,
 * reading manifests (folder, glob, status folder, symbolic links, oversized
 * files), change detection, a force push, a failed fetch that keeps the
 * cache, and status commits (nothing to commit, a push racing another one).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <git2.h>

#include "lib/buf.h"
#include "lib/diff.h"
#include "lib/duration.h"
#include "sync/sync.h"

/* ---- known_hosts ---- */

#define KEY_A "AAAAC3NzaC1lZDI1NTE5AAAAIAWSkYjgWl2Wcp5qCPmrOvszIu1qmqj3eQr3Eusch4e4"
#define KEY_B "AAAAC3NzaC1lZDI1NTE5AAAAIBBBBBjgWl2Wcp5qCPmrOvszIu1qmqj3eQr3Eusch4e4"

static const struct {
	const char *text;
	const char *host;
	int port;
	enum sync_host_key want;
} kh_cases[] = {
	{"[127.0.0.1]:22222 ssh-ed25519 " KEY_A "\n", "127.0.0.1", 22222, SYNC_HOST_KEY_KNOWN},
	{"[127.0.0.1]:22222 ssh-ed25519 " KEY_B "\n", "127.0.0.1", 22222, SYNC_HOST_KEY_CHANGED},
	{"[127.0.0.1]:22222 ssh-ed25519 " KEY_A "\n", "127.0.0.1", 22, SYNC_HOST_KEY_UNKNOWN},
	{"127.0.0.1 ssh-ed25519 " KEY_A "\n", "127.0.0.1", 22, SYNC_HOST_KEY_KNOWN},
	{"other ssh-ed25519 " KEY_A "\n", "127.0.0.1", 22, SYNC_HOST_KEY_UNKNOWN},
	/* another key type for the host is not a changed key */
	{"host ssh-rsa AAAAB3Nza\n", "host", 22, SYNC_HOST_KEY_UNKNOWN},
	{"# comment\n\nhost,alias ssh-ed25519 " KEY_A "\r\n", "alias", 22, SYNC_HOST_KEY_KNOWN},
	{"*.example.com ssh-ed25519 " KEY_A "\n", "git.example.com", 22, SYNC_HOST_KEY_KNOWN},
	{"*.example.com,!bad.example.com ssh-ed25519 " KEY_A "\n", "bad.example.com", 22, SYNC_HOST_KEY_UNKNOWN},
	{"GIT.Example.com ssh-ed25519 " KEY_A "\n", "git.example.com", 22, SYNC_HOST_KEY_KNOWN},
	/* hashed: HMAC-SHA1 of "[git.example.com]:2222" with salt 00..13 */
	{"|1|AAECAwQFBgcICQoLDA0ODxAREhM=|iB8ji+G7JiWchxZqOjryGAnIiTo= ssh-ed25519 " KEY_A "\n", "git.example.com",
	 2222, SYNC_HOST_KEY_KNOWN},
	{"|1|AAECAwQFBgcICQoLDA0ODxAREhM=|iB8ji+G7JiWchxZqOjryGAnIiTo= ssh-ed25519 " KEY_B "\n", "git.example.com",
	 2222, SYNC_HOST_KEY_CHANGED},
	{"|1|AAECAwQFBgcICQoLDA0ODxAREhM=|iB8ji+G7JiWchxZqOjryGAnIiTo= ssh-ed25519 " KEY_A "\n", "git.example.com",
	 22, SYNC_HOST_KEY_UNKNOWN},
	/* key rotation: an old line and a new one; the offered key is listed */
	{"h ssh-ed25519 " KEY_B "\nh ssh-ed25519 " KEY_A "\n", "h", 22, SYNC_HOST_KEY_KNOWN},
	{"@revoked h ssh-ed25519 " KEY_A "\nh ssh-ed25519 " KEY_A "\n", "h", 22, SYNC_HOST_KEY_CHANGED},
	/* a revoked key is refused wherever the @revoked line stands: after the
	 * line that lists it, and after a key rotation (found by fuzzing) */
	{"h ssh-ed25519 " KEY_A "\n@revoked * ssh-ed25519 " KEY_A "\n", "h", 22, SYNC_HOST_KEY_CHANGED},
	{"h ssh-ed25519 " KEY_B "\nh ssh-ed25519 " KEY_A "\n@revoked * ssh-ed25519 " KEY_A "\n", "h", 22,
	 SYNC_HOST_KEY_CHANGED},
	{"@revoked h ssh-ed25519 " KEY_B "\nh ssh-ed25519 " KEY_A "\n", "h", 22, SYNC_HOST_KEY_KNOWN},
	{"@cert-authority h ssh-ed25519 " KEY_A "\n", "h", 22, SYNC_HOST_KEY_UNKNOWN},
	{"garbage\nh\nh ssh-ed25519\n", "h", 22, SYNC_HOST_KEY_UNKNOWN},
	{"", "h", 22, SYNC_HOST_KEY_UNKNOWN},
};

static void test_known_hosts(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(kh_cases) / sizeof(kh_cases[0]); i++) {
		enum sync_host_key got = sync_known_hosts_check(kh_cases[i].text, strlen(kh_cases[i].text),
								kh_cases[i].host, kh_cases[i].port, "ssh-ed25519", KEY_A);
		if (got != kh_cases[i].want)
			fail_msg("case %zu: got %d, want %d", i, got, kh_cases[i].want);
	}
}

/* Patterns of many stars against a long name that almost matches: a
 * backtracking matcher takes exponential time here; ours is linear in the
 * product of the lengths, so this finishes at once (and under valgrind). */
static void test_known_hosts_wildcards(void **state)
{
	(void)state;
	fo_buf text = FO_BUF_INIT;
	for (int i = 0; i < 200; i++)
		fo_buf_puts(&text, "*a");
	fo_buf_puts(&text, "*b ssh-ed25519 " KEY_A "\n");
	fo_buf host = FO_BUF_INIT;
	for (int i = 0; i < 300; i++)
		fo_buf_puts(&host, "a");
	assert_int_equal(sync_known_hosts_check(text.ptr, text.len, host.ptr, 22, "ssh-ed25519", KEY_A),
			 SYNC_HOST_KEY_UNKNOWN);
	fo_buf_puts(&host, "b");
	assert_int_equal(sync_known_hosts_check(text.ptr, text.len, host.ptr, 22, "ssh-ed25519", KEY_A),
			 SYNC_HOST_KEY_KNOWN);
	fo_buf_free(&text);
	fo_buf_free(&host);
	static const struct {
		const char *pat, *host;
		enum sync_host_key want;
	} w[] = {
		{"*", "anything", SYNC_HOST_KEY_KNOWN},     {"a*", "a", SYNC_HOST_KEY_KNOWN},
		{"*a", "ba", SYNC_HOST_KEY_KNOWN},          {"*a", "ab", SYNC_HOST_KEY_UNKNOWN},
		{"a?c", "abc", SYNC_HOST_KEY_KNOWN},        {"a?c", "ac", SYNC_HOST_KEY_UNKNOWN},
		{"**x**", "yyxyy", SYNC_HOST_KEY_KNOWN},    {"h*st*", "host1", SYNC_HOST_KEY_KNOWN},
		{"*.a.b", "x.a.c", SYNC_HOST_KEY_UNKNOWN},  {"", "", SYNC_HOST_KEY_UNKNOWN},
	};
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		char *line = fo_asprintf("%s ssh-ed25519 %s\n", w[i].pat, KEY_A);
		enum sync_host_key got = sync_known_hosts_check(line, strlen(line), w[i].host, 22, "ssh-ed25519", KEY_A);
		if (got != w[i].want)
			fail_msg("pattern \"%s\" vs \"%s\": got %d, want %d", w[i].pat, w[i].host, got, w[i].want);
		free(line);
	}
}

/* ---- diff ---- */

static const struct {
	const char *a, *b, *want; /* want: the hunks, without the ---/+++ header */
	size_t changed;
} diff_cases[] = {
	{"a\nb\n", "a\nb\n", "", 0},
	{"", "", "", 0},
	{"1\n2\n3\n4\n5\n6\n7\n8\n9\n", "1\n2\n3\n4\nX\n6\n7\n8\n9\n",
	 "@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+X\n 6\n 7\n 8\n", 2},
	{"", "x\ny\n", "@@ -0,0 +1,2 @@\n+x\n+y\n", 2},
	{"x\n", "", "@@ -1 +0,0 @@\n-x\n", 1},
	{"a\nb", "a\nc",
	 "@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n", 2},
	{"1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n17\n18\n19\n20\n",
	 "1\nB\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n17\nR\n19\n20\n",
	 "@@ -1,5 +1,5 @@\n 1\n-2\n+B\n 3\n 4\n 5\n@@ -15,6 +15,6 @@\n 15\n 16\n 17\n-18\n+R\n 19\n 20\n", 4},
	{"1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n17\n18\n19\n20\n",
	 "1\n2\n3\n4\nF\n6\n7\n8\n9\nT\n11\n12\n13\n14\n15\n16\n17\n18\n19\n20\n",
	 "@@ -2,12 +2,12 @@\n 2\n 3\n 4\n-5\n+F\n 6\n 7\n 8\n 9\n-10\n+T\n 11\n 12\n 13\n", 4},
	{"a\nb\nc\n", "a\nc\nd\n", "@@ -1,3 +1,3 @@\n a\n-b\n c\n+d\n", 2},
	{"a\nb\nc\nd\n", "x\ny\n", "@@ -1,4 +1,2 @@\n-a\n-b\n-c\n-d\n+x\n+y\n", 6},
};

static void test_diff(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(diff_cases) / sizeof(diff_cases[0]); i++) {
		fo_buf b = FO_BUF_INIT;
		size_t n = fo_diff_unified(&b, diff_cases[i].a, strlen(diff_cases[i].a), diff_cases[i].b,
					   strlen(diff_cases[i].b), "a", "b", 3);
		const char *got = fo_buf_cstr(&b);
		if (n != diff_cases[i].changed)
			fail_msg("case %zu: %zu lines changed, want %zu", i, n, diff_cases[i].changed);
		if (*diff_cases[i].want) {
			if (!fo_has_prefix(got, "--- a\n+++ b\n") || strcmp(got + 12, diff_cases[i].want) != 0)
				fail_msg("case %zu:\n%s\nwant:\n%s", i, got, diff_cases[i].want);
		} else if (*got) {
			fail_msg("case %zu: want no output, got\n%s", i, got);
		}
		fo_buf_free(&b);
	}
}

/* A large diff past the edit bound is still a correct (if coarse) diff. */
static void test_diff_bounded(void **state)
{
	(void)state;
	fo_buf a = FO_BUF_INIT, b = FO_BUF_INIT, out = FO_BUF_INIT;
	for (int i = 0; i < 3000; i++) {
		fo_buf_printf(&a, "a%d\n", i);
		fo_buf_printf(&b, "b%d\n", i);
	}
	size_t n = fo_diff_unified(&out, a.ptr, a.len, b.ptr, b.len, "a", "b", 3);
	assert_int_equal(n, 6000);
	assert_non_null(strstr(fo_buf_cstr(&out), "@@ -1,3000 +1,3000 @@\n-a0\n"));
	fo_buf_free(&a);
	fo_buf_free(&b);
	fo_buf_free(&out);
}

/* ---- durations, as `wait --timeout/--interval` read them ---- */

static void test_durations(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		int64_t ms; /* -1: an error */
	} cases[] = {
		{"10m", 600000}, {"5s", 5000}, {"1h30m", 5400000}, {"250ms", 250}, {"1.5s", 1500},
		{"90", 90000},   {"", -1},     {"10x", -1},       {"m", -1},      {"-5s", -1},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t ms = 0;
		fo_err e = FO_ERR_INIT;
		int rc = fo_duration_parse(cases[i].s, &ms, &e);
		if (cases[i].ms < 0 ? rc == 0 : (rc != 0 || ms != cases[i].ms))
			fail_msg("\"%s\": rc %d ms %lld (%s)", cases[i].s, rc, (long long)ms, fo_err_msg(&e));
		fo_err_clear(&e);
	}
}

/* ---- repositories ---- */

typedef struct fixture {
	char *dir;    /* temporary folder */
	char *origin; /* bare repository */
	char *url;    /* file:// URL of origin */
	char *work;   /* a clone to make commits in */
	char *cache;
} fixture;

static void sh(const char *fmt, ...) FO_PRINTF(1, 2);

static void sh(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *cmd = fo_vasprintf(fmt, ap);
	va_end(ap);
	char *full = fo_asprintf("set -e; export GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@t "
				 "GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@t HOME=/nonexistent; %s",
				 cmd);
	int rc = system(full);
	if (rc != 0)
		fail_msg("command failed (%d): %s", rc, cmd);
	free(full);
	free(cmd);
}

static char *sh_out(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char line[256] = "";
	if (!fgets(line, sizeof(line), p))
		line[0] = '\0';
	pclose(p);
	line[strcspn(line, "\n")] = '\0';
	return fo_strdup(line);
}

static int setup(void **state)
{
	fixture *f = fo_calloc(1, sizeof(*f));
	char tmpl[] = "/tmp/flinkops-test-sync-XXXXXX";
	f->dir = fo_strdup(mkdtemp(tmpl));
	f->origin = fo_asprintf("%s/origin.git", f->dir);
	f->url = fo_asprintf("file://%s", f->origin);
	f->work = fo_asprintf("%s/work", f->dir);
	f->cache = fo_asprintf("%s/cache", f->dir);
	sh("git init -q --bare -b main %s && git init -q -b main %s && cd %s && git remote add origin %s", f->origin,
	   f->work, f->work, f->origin);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	sh("rm -rf %s", f->dir);
	free(f->dir);
	free(f->origin);
	free(f->url);
	free(f->work);
	free(f->cache);
	free(f);
	return 0;
}

#define FD(name) \
	"apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\nmetadata: {name: " name "}\nspec: {}\n"

static void commit_push(fixture *f, const char *msg)
{
	sh("cd %s && git add -A && git commit -q -m '%s' && git push -q origin HEAD:main 2>/dev/null", f->work, msg);
}

static void write_file(fixture *f, const char *path, const char *text)
{
	char *full = fo_asprintf("%s/%s", f->work, path);
	char *dir = fo_strdup(full);
	*strrchr(dir, '/') = '\0';
	sh("mkdir -p %s", dir);
	FILE *fp = fopen(full, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	free(dir);
	free(full);
}

static void test_manifests_and_changes(void **state)
{
	fixture *f = *state;
	write_file(f, "jobs/a.yaml", FD("a"));
	write_file(f, "jobs/b.yml", FD("b"));
	write_file(f, "jobs/notes.txt", "not a manifest\n");
	write_file(f, "status/default/a.yaml", "phase: Running\n");
	write_file(f, "other/c.yaml", FD("c"));
	sh("cd %s && ln -s a.yaml jobs/link.yaml && head -c 2000 /dev/zero | tr '\\0' x > jobs/big.yaml", f->work);
	commit_push(f, "one");

	sync_repo *r = NULL;
	fo_err e = FO_ERR_INIT;
	sync_auth auth = {0};
	assert_int_equal(sync_open(f->url, f->cache, &auth, &r, &e), 0);
	char c1[SYNC_OID_HEX], c2[SYNC_OID_HEX];
	assert_int_equal(sync_fetch(r, NULL, c1, &e), 0);

	sync_files files = {0};
	fo_diags notes = FO_DIAGS_INIT;
	sync_select sel = {NULL, NULL, NULL, 1000};
	assert_int_equal(sync_read_manifests(r, c1, &sel, &files, &notes, &e), 0);
	assert_int_equal(files.n, 3); /* jobs/a.yaml jobs/b.yml other/c.yaml */
	assert_string_equal(files.v[0].path, "jobs/a.yaml");
	assert_string_equal(files.v[1].path, "jobs/b.yml");
	assert_string_equal(files.v[2].path, "other/c.yaml");
	assert_string_equal(files.v[0].data, FD("a"));
	/* both skipped files are errors that name them, so nothing is pruned */
	assert_int_equal(notes.n, 2);
	assert_int_equal(notes.nerrors, 2);
	assert_string_equal(notes.v[0].file, "jobs/big.yaml");
	assert_non_null(strstr(notes.v[0].msg, "more than the limit of 1000 bytes"));
	assert_string_equal(notes.v[1].file, "jobs/link.yaml");
	assert_non_null(strstr(notes.v[1].msg, "symbolic link"));
	sync_files_free(&files);
	fo_diags_free(&notes);

	sync_select only_jobs = {"jobs", "*.yaml", NULL, 0};
	assert_int_equal(sync_read_manifests(r, c1, &only_jobs, &files, NULL, &e), 0);
	assert_int_equal(files.n, 2); /* a.yaml and big.yaml (under the default 1 MiB) */
	assert_string_equal(files.v[0].path, "jobs/a.yaml");
	sync_files_free(&files);

	char *data = NULL;
	size_t len = 0;
	assert_int_equal(sync_read_file(r, c1, "jobs/b.yml", &data, &len, &e), 0);
	assert_string_equal(data, FD("b"));
	free(data);
	assert_int_equal(sync_read_file(r, c1, "jobs/nope.yaml", &data, &len, &e), FO_ENOTFOUND);
	assert_null(data);
	fo_err_clear(&e);

	/* change a, remove b, add d, touch only the status folder */
	write_file(f, "jobs/a.yaml", FD("a") "# changed\n");
	write_file(f, "jobs/d.yaml", FD("d"));
	write_file(f, "status/default/a.yaml", "phase: Failed\n");
	sh("cd %s && git rm -q jobs/b.yml", f->work);
	commit_push(f, "two");
	assert_int_equal(sync_fetch(r, "main", c2, &e), 0);
	assert_string_not_equal(c1, c2);
	sync_changes ch = {0};
	assert_int_equal(sync_diff(r, c1, c2, &sel, &ch, &e), 0);
	assert_false(ch.rewritten);
	assert_int_equal(ch.n, 3);
	assert_string_equal(ch.v[0].path, "jobs/a.yaml");
	assert_int_equal(ch.v[0].kind, SYNC_CHANGED);
	assert_string_equal(ch.v[1].path, "jobs/b.yml");
	assert_int_equal(ch.v[1].kind, SYNC_REMOVED);
	assert_string_equal(ch.v[1].new_blob, "");
	assert_string_equal(ch.v[2].path, "jobs/d.yaml");
	assert_int_equal(ch.v[2].kind, SYNC_ADDED);
	assert_string_equal(ch.v[2].old_blob, "");
	sync_changes_free(&ch);

	/* a commit that only touches the status folder changes no manifest */
	write_file(f, "status/default/a.yaml", "phase: Running\n");
	commit_push(f, "status only");
	char c3[SYNC_OID_HEX];
	assert_int_equal(sync_fetch(r, "main", c3, &e), 0);
	assert_int_equal(sync_diff(r, c2, c3, &sel, &ch, &e), 0);
	assert_int_equal(ch.n, 0);
	sync_changes_free(&ch);
	bool anc = false;
	assert_int_equal(sync_is_ancestor(r, c1, c3, &anc, &e), 0);
	assert_true(anc);
	assert_int_equal(sync_is_ancestor(r, c3, c1, &anc, &e), 0);
	assert_false(anc);
	char parent[SYNC_OID_HEX];
	assert_int_equal(sync_parent(r, c3, parent, &e), 0);
	assert_string_equal(parent, c2);
	assert_int_equal(sync_parent(r, c1, parent, &e), 0);
	assert_string_equal(parent, "");

	/* a force push that rewrites history is reported */
	write_file(f, "jobs/e.yaml", FD("e"));
	sh("cd %s && git add -A && git commit -q --amend -m rewritten && git push -q -f origin HEAD:main 2>/dev/null",
	   f->work);
	char c4[SYNC_OID_HEX];
	assert_int_equal(sync_fetch(r, "main", c4, &e), 0);
	assert_int_equal(sync_diff(r, c3, c4, &sel, &ch, &e), 0);
	assert_true(ch.rewritten);
	assert_int_equal(ch.n, 1);
	assert_string_equal(ch.v[0].path, "jobs/e.yaml");
	sync_changes_free(&ch);

	/* a failed fetch keeps the cache: the last good commit still reads */
	sh("mv %s %s.away", f->origin, f->origin);
	char c5[SYNC_OID_HEX];
	int rc = sync_fetch(r, "main", c5, &e);
	assert_true(rc < 0);
	assert_non_null(strstr(fo_err_msg(&e), f->url));
	fo_err_clear(&e);
	assert_int_equal(sync_resolve(r, "main", c5, &e), 0);
	assert_string_equal(c5, c4);
	assert_int_equal(sync_read_manifests(r, c5, &sel, &files, NULL, &e), 0);
	assert_int_equal(files.n, 4);
	sync_files_free(&files);
	sh("mv %s.away %s", f->origin, f->origin);

	/* unknown revisions say so */
	assert_int_equal(sync_resolve(r, "no-such-branch", c5, &e), FO_ENOTFOUND);
	assert_non_null(strstr(fo_err_msg(&e), "no-such-branch"));
	fo_err_clear(&e);
	sync_free(r);

	/* opening the cache again fetches nothing and sees the same state */
	assert_int_equal(sync_open(f->url, f->cache, &auth, &r, &e), 0);
	assert_int_equal(sync_resolve(r, "main", c5, &e), 0);
	assert_string_equal(c5, c4);
	sync_free(r);
}

typedef struct race {
	fixture *f;
	int calls;
} race;

static void push_concurrently(void *ctx, int attempt)
{
	race *rc = ctx;
	rc->calls++;
	if (attempt != 1)
		return;
	sh("cd %s && git pull -q --ff-only origin main 2>/dev/null", rc->f->work);
	write_file(rc->f, "jobs/concurrent.yaml", FD("concurrent"));
	commit_push(rc->f, "concurrent");
}

/* Origin with one commit (jobs/a.yaml), and the cache fetched at it. */
static sync_repo *cache_with_one_commit(fixture *f, char tip[SYNC_OID_HEX])
{
	write_file(f, "jobs/a.yaml", FD("a"));
	commit_push(f, "one");
	sync_repo *r = NULL;
	fo_err e = FO_ERR_INIT;
	assert_int_equal(sync_open(f->url, f->cache, NULL, &r, &e), 0);
	assert_int_equal(sync_fetch(r, "main", tip, &e), 0);
	return r;
}

static void test_status_commits(void **state)
{
	fixture *f = *state;
	char tip[SYNC_OID_HEX], commit[SYNC_OID_HEX];
	sync_repo *r = cache_with_one_commit(f, tip);
	fo_err e = FO_ERR_INIT;

	sync_put puts[] = {{"status/default/a.yaml", "phase: Running\n"}, {"status/default/b.yaml", "phase: Pending\n"}};
	sync_author au = {"flinkops test", "test@flinkops.invalid"};
	assert_int_equal(sync_commit_push(r, "main", puts, 2, "status: a Running, b Pending at 1234567", &au, 0, commit, &e),
			 0);
	assert_int_equal(strlen(commit), 40);
	char *parent = fo_asprintf("git --git-dir=%s rev-parse %s^", f->origin, commit);
	char *p = sh_out(parent);
	assert_string_equal(p, tip);
	free(p);
	free(parent);
	char *cmd = fo_asprintf("git --git-dir=%s show main:status/default/a.yaml", f->origin);
	p = sh_out(cmd);
	assert_string_equal(p, "phase: Running");
	free(p);
	free(cmd);

	/* the same content again: no commit */
	char again[SYNC_OID_HEX];
	assert_int_equal(sync_commit_push(r, "main", puts, 2, "status: again", &au, 0, again, &e), 0);
	assert_string_equal(again, "");

	/* another push lands between our fetch and our push: rebuilt on top, both kept */
	race rc = {f, 0};
	int used = 0;
	sync_push_opts po = {0};
	po.before_push = push_concurrently;
	po.ctx = &rc;
	po.backoff_ms = 10;
	po.attempts_used = &used;
	sync_put up[] = {{"status/default/a.yaml", "phase: Upgrading\n"}, {"status/default/b.yaml", NULL}};
	char third[SYNC_OID_HEX];
	assert_int_equal(sync_commit_push_ex(r, "main", up, 2, "status: a Upgrading", &au, &po, third, &e), 0);
	assert_int_equal(used, 2);
	cmd = fo_asprintf("git --git-dir=%s log --format=%%s main | head -3 | tr '\\n' '|'", f->origin);
	p = sh_out(cmd);
	assert_string_equal(p, "status: a Upgrading|concurrent|status: a Running, b Pending at 1234567|");
	free(p);
	free(cmd);
	cmd = fo_asprintf("git --git-dir=%s ls-tree -r --name-only main | tr '\\n' ' '", f->origin);
	p = sh_out(cmd);
	assert_string_equal(p, "jobs/a.yaml jobs/concurrent.yaml status/default/a.yaml ");
	free(p);
	free(cmd);

	/* a status branch that does not exist yet starts with no parent */
	sync_put st[] = {{"status/default/a.yaml", "phase: Running\n"}};
	char first[SYNC_OID_HEX];
	assert_int_equal(sync_commit_push(r, "flinkops-status", st, 1, "status: a Running", &au, 0, first, &e), 0);
	cmd = fo_asprintf("git --git-dir=%s rev-list --parents -n1 flinkops-status | wc -w", f->origin);
	p = sh_out(cmd);
	assert_string_equal(p, "1");
	free(p);
	free(cmd);

	/* bad paths are refused before anything is written */
	sync_put badp[] = {{"../x", "x"}};
	assert_int_equal(sync_commit_push(r, "main", badp, 1, "m", NULL, 0, commit, &e), FO_EINVAL);
	fo_err_clear(&e);
	sync_free(r);
}

/* Another writer pushes before our first attempt; then the Lease is lost:
 * `expire` lets the fence run out during the backoff (it is found closed
 * before the fetch and rebuild), else the elector closes it while the
 * retry rebuilds (it is found closed right before the push). */
typedef struct lease_race {
	fixture *f;
	fo_fence *fence;
	bool expire;
	int calls;
} lease_race;

static void push_then_lose_lease(void *ctx, int attempt)
{
	lease_race *lr = ctx;
	lr->calls++;
	if (attempt == 1) {
		sh("cd %s && git pull -q --ff-only origin main 2>/dev/null", lr->f->work);
		write_file(lr->f, "status/default/a.yaml", lr->expire ? "writer: new leader 1\n" : "writer: new leader 2\n");
		commit_push(lr->f, lr->expire ? "status: new leader 1" : "status: new leader 2");
		if (lr->expire) /* the last renewal 300 ms short of the deadline: held through this
				 * push, not through the backoff (fo_fence_renewed never moves it back) */
			atomic_store(&lr->fence->renewed_at, fo_mono_ms() - lr->fence->deadline_ms + 300);
	} else {
		fo_fence_close(lr->fence);
	}
}

/* A leader that lost its Lease pushes no status: the fence is checked
 * before every attempt's fetch and before every push, so a push rejected
 * once is not retried after the Lease went, and the remote keeps only the
 * other writer's commit. */
static void test_status_push_fenced(void **state)
{
	fixture *f = *state;
	char tip[SYNC_OID_HEX], commit[SYNC_OID_HEX];
	sync_repo *r = cache_with_one_commit(f, tip);
	sync_author au = {"flinkops test", "test@flinkops.invalid"};
	sync_put up[] = {{"status/default/a.yaml", "phase: Upgrading\nwriter: the old leader\n"}};
	char *log = fo_asprintf("git --git-dir=%s log --format=%%s main | tr '\\n' '|'", f->origin);
	char *show = fo_asprintf("git --git-dir=%s show main:status/default/a.yaml", f->origin);
	static const char *const want_log[] = {"status: new leader 2|status: new leader 1|one|", "status: new leader 1|one|"};
	for (int expire = 1; expire >= 0; expire--) {
		fo_fence fence;
		fo_fence_init(&fence, 10000);
		fo_fence_renewed(&fence, fo_mono_ms());
		lease_race lr = {f, &fence, expire, 0};
		int used = 0;
		sync_push_opts po = {0};
		po.before_push = push_then_lose_lease;
		po.ctx = &lr;
		po.backoff_ms = 1000;
		po.attempts_used = &used;
		po.fence = &fence;
		fo_err e = FO_ERR_INIT;
		int rc = sync_commit_push_ex(r, "main", up, 1, "status: a Upgrading", &au, &po, commit, &e);
		if (rc != FO_EFENCED)
			fail_msg("%s: rc %d (%s), want FO_EFENCED", expire ? "expired" : "closed", rc, fo_err_msg(&e));
		assert_non_null(strstr(fo_err_msg(&e), "the lease was lost"));
		assert_string_equal(commit, "");
		/* one push, rejected; expired in the backoff: no second fetch or
		 * rebuild; closed in the rebuild: no second push */
		assert_int_equal(used, 1);
		assert_int_equal(lr.calls, expire ? 1 : 2);
		char *p = sh_out(log);
		assert_string_equal(p, want_log[expire]);
		free(p);
		p = sh_out(show);
		assert_string_equal(p, expire ? "writer: new leader 1" : "writer: new leader 2");
		free(p);
		fo_err_clear(&e);
	}
	/* a fence closed from the start: nothing fetched, built or pushed */
	fo_fence fence;
	fo_fence_init(&fence, 10000);
	lease_race lr = {f, &fence, false, 0};
	sync_push_opts po = {0};
	po.before_push = push_then_lose_lease;
	po.ctx = &lr;
	po.fence = &fence;
	fo_err e = FO_ERR_INIT;
	assert_int_equal(sync_commit_push_ex(r, "main", up, 1, "status: a Upgrading", &au, &po, commit, &e), FO_EFENCED);
	assert_int_equal(lr.calls, 0);
	char *p = sh_out(log);
	assert_string_equal(p, want_log[0]);
	free(p);
	fo_err_clear(&e);
	free(log);
	free(show);
	sync_free(r);
}

static void test_local_repository(void **state)
{
	fixture *f = *state;
	write_file(f, "jobs/a.yaml", FD("a"));
	commit_push(f, "one");
	sync_repo *r = NULL;
	fo_err e = FO_ERR_INIT;
	/* a work tree opened in place: its branch, no cache */
	assert_int_equal(sync_open_local(f->work, &r, &e), 0);
	char c[SYNC_OID_HEX], head[SYNC_OID_HEX];
	assert_int_equal(sync_fetch(r, "main", c, &e), 0);
	assert_int_equal(sync_resolve(r, "HEAD", head, &e), 0);
	assert_string_equal(c, head);
	sync_free(r);
	/* a bare one: status commits update the branch with a compare-and-swap */
	assert_int_equal(sync_open_local(f->origin, &r, &e), 0);
	sync_put puts[] = {{"status/x/y.yaml", "phase: Running\n"}};
	char commit[SYNC_OID_HEX];
	assert_int_equal(sync_commit_push(r, "main", puts, 1, "status: y Running", NULL, 1, commit, &e), 0);
	assert_int_equal(sync_resolve(r, "main", c, &e), 0);
	assert_string_equal(c, commit);
	sync_free(r);
	assert_int_equal(sync_open_local("/nonexistent/repo", &r, &e), FO_ENOTFOUND);
	assert_null(r);
	fo_err_clear(&e);
}

/* Which files of a git folder are a dead worker's leftovers. */
static void test_stale_leftovers(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		long age_s;
		bool stale;
	} cases[] = {
		{"main.lock", 901, true},         /* refs/heads/main.lock */
		{"packed-refs.lock", 3600, true},
		{"HEAD.lock", 900, false},        /* not older than the bound: a worker may hold it */
		{"main.lock", 10, false},
		{"tmp_object_git2_a1B2c3", 1000, true},
		{"pack_git2_9f8e7d", 1000, true},
		{"pack-0123abcd.pack", 99999, false},
		{"HEAD", 99999, false},
		{"lock", 99999, false},
		{"main.locked", 99999, false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (sync_is_stale_leftover(cases[i].name, cases[i].age_s, 900) != cases[i].stale)
			fail_msg("%s, %ld s old: want %s", cases[i].name, cases[i].age_s, cases[i].stale ? "stale" : "kept");
}

static int count_out(const char *cmd)
{
	char *s = sh_out(cmd);
	int n = atoi(s);
	free(s);
	return n;
}

/* The cache after months: loose objects from status commits packed, the
 * packs of many fetches merged into one, a killed worker's lock removed, a
 * fresh one kept — and every ref still reads, git fsck agrees. */
static void test_maintain(void **state)
{
	fixture *f = *state;
	char tip[SYNC_OID_HEX], commit[SYNC_OID_HEX];
	sync_repo *r = cache_with_one_commit(f, tip);
	fo_err e = FO_ERR_INIT;
	char *find = fo_asprintf("find %s -mindepth 1 -maxdepth 1 -type d", f->cache);
	char *gitdir = sh_out(find);
	free(find);
	sync_author au = {"flinkops test", "test@flinkops.invalid"};
	for (int i = 0; i < 4; i++) {
		char text[32];
		snprintf(text, sizeof(text), "phase: Running %d\n", i);
		sync_put puts[] = {{"status/default/a.yaml", text}};
		assert_int_equal(sync_commit_push(r, "main", puts, 1, "status", &au, 0, commit, &e), 0);
	}
	char *cmd_loose = fo_asprintf("find %s/objects -path '*/objects/[0-9a-f][0-9a-f]/*' -type f | wc -l", gitdir);
	char *cmd_packs = fo_asprintf("ls %s/objects/pack/ | grep -c '\\.pack$'", gitdir);
	int loose = count_out(cmd_loose);
	int packs = count_out(cmd_packs);
	assert_true(loose >= 12); /* a blob, two trees and a commit each */
	sh("touch -d '-1 hour' %s/refs/heads/dead.lock && touch %s/refs/heads/busy.lock", gitdir, gitdir);

	sync_maintain_opts o = {.loose_max = 1};
	sync_maintain_report rep;
	assert_int_equal(sync_maintain(r, &o, &rep, &e), 0);
	assert_int_equal(rep.loose_packed, loose);
	assert_int_equal(rep.stale_removed, 1);
	assert_int_equal(rep.packs_merged, 0);
	assert_int_equal(count_out(cmd_loose), 0);
	assert_int_equal(count_out(cmd_packs), packs + 1);
	sh("test ! -e %s/refs/heads/dead.lock && test -e %s/refs/heads/busy.lock && rm %s/refs/heads/busy.lock", gitdir,
	   gitdir, gitdir);
	/* read from the pack, by this process and by git */
	char *data = NULL;
	size_t len = 0;
	assert_int_equal(sync_read_file(r, commit, "status/default/a.yaml", &data, &len, &e), 0);
	assert_string_equal(data, "phase: Running 3\n");
	free(data);
	sh("git --git-dir=%s fsck --no-dangling --no-progress", gitdir);

	/* many fetches, many packs: merged into one */
	for (int i = 0; i < 3; i++) {
		char name[32], body[128];
		snprintf(name, sizeof(name), "jobs/f%d.yaml", i);
		snprintf(body, sizeof(body), FD("f%d"), i);
		write_file(f, name, body);
		sh("cd %s && git pull -q --rebase origin main 2>/dev/null", f->work);
		commit_push(f, name);
		assert_int_equal(sync_fetch(r, "main", tip, &e), 0);
	}
	packs = count_out(cmd_packs);
	assert_true(packs >= 3);
	o.packs_max = 1;
	assert_int_equal(sync_maintain(r, &o, &rep, &e), 0);
	assert_int_equal(rep.packs_merged, packs);
	assert_int_equal(count_out(cmd_packs), 1);
	assert_int_equal(count_out(cmd_loose), 0);
	sh("git --git-dir=%s fsck --no-dangling --no-progress", gitdir);
	assert_int_equal(sync_read_file(r, tip, "jobs/f2.yaml", &data, &len, &e), 0);
	free(data);
	assert_int_equal(sync_read_file(r, commit, "status/default/a.yaml", &data, &len, &e), 0);
	free(data);
	/* and the cache goes on working: a fetch and a status commit */
	sync_put more[] = {{"status/default/a.yaml", "phase: Running 4\n"}};
	assert_int_equal(sync_commit_push(r, "main", more, 1, "status", &au, 0, commit, &e), 0);
	assert_int_equal(strlen(commit), 40);
	/* nothing to do: nothing done */
	assert_int_equal(sync_maintain(r, NULL, &rep, &e), 0);
	assert_int_equal(rep.loose_packed + rep.packs_merged + rep.stale_removed, 0);
	free(cmd_loose);
	free(cmd_packs);
	free(gitdir);
	sync_free(r);
}

/* Sets the stop request after 300 ms, as the signal thread does on SIGTERM. */
static void *stop_later(void *arg)
{
	struct timespec ts = {0, 300 * 1000000L};
	nanosleep(&ts, NULL);
	atomic_store((atomic_bool *)arg, true);
	return NULL;
}

/*
 * A fetch from a server that accepts the connection and never answers
 * waits out repository.timeout (60 s here), unless the stop request comes:
 * then its worker is killed at once and the fetch is FO_ESTOPPED, the
 * cache as it was; the worker's end marks progress.
 */
static void test_fetch_stop(void **state)
{
	fixture *f = *state;
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	assert_int_equal(bind(ls, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(ls, 4), 0); /* the kernel completes the connection; nobody answers */
	assert_int_equal(getsockname(ls, (struct sockaddr *)&a, &alen), 0);
	char *url = fo_asprintf("git://127.0.0.1:%d/silent.git", ntohs(a.sin_port));
	sync_auth auth = {0};
	auth.timeout_seconds = 60;
	sync_repo *r = NULL;
	fo_err e = FO_ERR_INIT;
	assert_int_equal(sync_open(url, f->cache, &auth, &r, &e), 0);
	atomic_bool stop;
	atomic_llong alive;
	atomic_init(&stop, false);
	atomic_init(&alive, 0);
	sync_repo_set_watch(r, &stop, &alive);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, stop_later, &stop), 0);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	char commit[SYNC_OID_HEX];
	int rc = sync_fetch(r, "main", commit, &e);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pthread_join(th, NULL);
	long ms = (long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
	assert_int_equal(rc, FO_ESTOPPED);
	if (!strstr(fo_err_msg(&e), "interrupted by stop request"))
		fail_msg("message: %s", fo_err_msg(&e));
	/* polled every 100 ms: well within a second, not at the 60 s timeout */
	if (ms < 250 || ms > 1500)
		fail_msg("the fetch ended after %ld ms", ms);
	assert_true(atomic_load(&alive) > 0);
	fo_err_clear(&e);
	sync_free(r);
	close(ls);
	free(url);
}

int main(int argc, char **argv)
{
	git_libgit2_init();
	int worker_status;
	if (sync_worker_main(argc, argv, &worker_status))
		return worker_status;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_hosts),
		cmocka_unit_test_setup_teardown(test_fetch_stop, setup, teardown),
		cmocka_unit_test(test_known_hosts_wildcards),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_diff_bounded),
		cmocka_unit_test(test_durations),
		cmocka_unit_test_setup_teardown(test_manifests_and_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_commits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_push_fenced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_local_repository, setup, teardown),
		cmocka_unit_test(test_stale_leftovers),
		cmocka_unit_test_setup_teardown(test_maintain, setup, teardown),
	};
	int rc = cmocka_run_group_tests_name("sync", tests, NULL, NULL);
	git_libgit2_shutdown();
	return rc;
}
