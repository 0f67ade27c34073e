/*
 * The repository options that the git verbs share (see gitcli.h), and the
 * hidden verb `flinkops git`, which runs one sync/ operation by hand:
 *
 *   flinkops git fetch --repo URL [--ref REF] [--since COMMIT] [--manifests]
 *   flinkops git push-status --repo URL [--branch B] --put PATH=FILE...
 *                            [--delete PATH] -m MESSAGE [--attempts N] [--before-push CMD]
 *
 * `fetch` prints the commit REF resolves to and, with --since, the manifests
 * added (A), changed (M) or removed (D) since COMMIT and whether history was
 * rewritten; the end-to-end tests and `make bench` use it. `push-status`
 * commits files on top of the remote branch and pushes without force;
 * --before-push runs a shell command just before each push attempt, which
 * is how the tests push concurrently at the worst moment. It is not listed
 * in `flinkops --help` because people have git for this.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent/cli.h"
#include "agent/gitcli.h"
#include "lib/duration.h"
#include "lib/fs.h"

enum {
	OPT_REPO = CLI_GIT_OPT_BASE,
	OPT_CACHE,
	OPT_USERNAME,
	OPT_PASSWORD_FILE,
	OPT_CA_FILE,
	OPT_SSH_KEY,
	OPT_KNOWN_HOSTS,
	OPT_ACCEPT_UNKNOWN,
	OPT_GIT_TIMEOUT,
};

const struct option cli_git_long_options[CLI_GIT_NOPTS + 1] = {
	{"repo", required_argument, NULL, OPT_REPO},
	{"cache", required_argument, NULL, OPT_CACHE},
	{"username", required_argument, NULL, OPT_USERNAME},
	{"password-file", required_argument, NULL, OPT_PASSWORD_FILE},
	{"ca-file", required_argument, NULL, OPT_CA_FILE},
	{"ssh-key", required_argument, NULL, OPT_SSH_KEY},
	{"known-hosts", required_argument, NULL, OPT_KNOWN_HOSTS},
	{"accept-unknown-host-key", no_argument, NULL, OPT_ACCEPT_UNKNOWN},
	{"git-timeout", required_argument, NULL, OPT_GIT_TIMEOUT},
	{NULL, 0, NULL, 0},
};

const char cli_git_usage[] =
	"Repository and credentials:\n"
	"  --repo DIR_OR_URL        a local repository (opened in place) or a URL: https://,\n"
	"                           ssh://, git://, file:// (cloned into the cache)\n"
	"  --cache DIR              cache of clones (default $XDG_CACHE_HOME/flinkops/git or\n"
	"                           ~/.cache/flinkops/git)\n"
	"  --username USER          https user (default \"git\")\n"
	"  --password-file FILE     https password or token, read from FILE\n"
	"  --ca-file FILE           extra CA certificates to trust for https\n"
	"  --ssh-key FILE           ssh private key (FILE.pub is used when present)\n"
	"  --known-hosts FILE       ssh known_hosts to check the server's host key against\n"
	"  --accept-unknown-host-key  accept a host missing from known_hosts (never a changed key)\n"
	"  --git-timeout DURATION   bound on each network operation (default 60s)\n";

bool cli_git_option(int c, const char *arg, cli_git_opts *o)
{
	switch (c) {
	case OPT_REPO: o->repo = arg; return true;
	case OPT_CACHE: o->cache = arg; return true;
	case OPT_USERNAME: o->username = arg; return true;
	case OPT_PASSWORD_FILE: o->password_file = arg; return true;
	case OPT_CA_FILE: o->ca_file = arg; return true;
	case OPT_SSH_KEY: o->ssh_key_file = arg; return true;
	case OPT_KNOWN_HOSTS: o->known_hosts = arg; return true;
	case OPT_ACCEPT_UNKNOWN: o->accept_unknown = true; return true;
	case OPT_GIT_TIMEOUT: {
		int64_t ms = 0;
		if (fo_duration_parse(arg, &ms, &o->bad) == 0) {
			if (ms < 1000 || ms > 3600 * 1000)
				fo_err_set(&o->bad, FO_EINVAL, "--git-timeout %s: give between 1s and 1h", arg);
			else
				o->timeout_seconds = (int)(ms / 1000);
		}
		return true;
	}
	default: return false;
	}
}

bool cli_git_is_local(const cli_git_opts *o)
{
	const char *r = o->repo ? o->repo : ".";
	struct stat st;
	return !strstr(r, "://") && stat(r, &st) == 0 && S_ISDIR(st.st_mode);
}

int cli_git_open(const cli_git_opts *o, sync_repo **out, fo_err *e)
{
	const char *repo = o->repo ? o->repo : ".";
	if (cli_git_is_local(o))
		return sync_open_local(repo, out, e);
	sync_auth a = {0};
	a.username = o->username;
	a.password_file = o->password_file;
	a.ca_file = o->ca_file;
	a.ssh_key_file = o->ssh_key_file;
	a.ssh_known_hosts = o->known_hosts;
	a.ssh_accept_unknown = o->accept_unknown;
	a.timeout_seconds = o->timeout_seconds;
	char *cache = NULL;
	if (o->cache) {
		cache = fo_strdup(o->cache);
	} else {
		const char *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
		if (x && *x)
			cache = fo_asprintf("%s/flinkops/git", x);
		else if (h && *h)
			cache = fo_asprintf("%s/.cache/flinkops/git", h);
		else
			cache = fo_strdup("/tmp/flinkops-cache/git");
	}
	int rc = sync_open(repo, cache, &a, out, e);
	free(cache);
	return rc;
}

/* ---- the hidden verb ---- */

static const char usage[] =
	"usage: flinkops git fetch --repo URL [--ref REF] [--since COMMIT] [--manifests] [OPTIONS]\n"
	"       flinkops git push-status --repo URL [--branch B] --put PATH=FILE... [--delete PATH]...\n"
	"                                -m MESSAGE [--attempts N] [--before-push CMD] [OPTIONS]\n"
	"\n"
	"Run one git operation of flinkops by hand (tests and benchmarks use it).\n"
	"fetch prints \"commit SHA\"; with --since, \"rewritten yes|no\" and one line a\n"
	"manifest that changed (A added, M changed, D removed); with --manifests, the\n"
	"number of manifests read at the commit. push-status commits the files on top\n"
	"of the remote branch and pushes without force, rebuilding on a rejected push;\n"
	"it prints \"commit SHA\" (empty when nothing changed) and \"attempts N\".\n"
	"\n"
	"  --path FOLDER, --glob PATTERN, --status-folder FOLDER   which files are manifests\n"
	"\n";

static void run_hook(void *ctx, int attempt)
{
	const char *cmd = ctx;
	char *env = fo_asprintf("%d", attempt);
	setenv("FLINKOPS_PUSH_ATTEMPT", env, 1);
	free(env);
	int rc = system(cmd);
	if (rc != 0)
		fprintf(stderr, "flinkops git: --before-push command exited with status %d\n", rc);
}

enum { O_REF = 1, O_SINCE, O_MANIFESTS, O_BRANCH, O_PUT, O_DELETE, O_ATTEMPTS, O_HOOK, O_PATH, O_GLOB, O_STATUS };
static const struct option options[] = {
	{"ref", required_argument, NULL, O_REF},
	{"since", required_argument, NULL, O_SINCE},
	{"manifests", no_argument, NULL, O_MANIFESTS},
	{"branch", required_argument, NULL, O_BRANCH},
	{"put", required_argument, NULL, O_PUT},
	{"delete", required_argument, NULL, O_DELETE},
	{"attempts", required_argument, NULL, O_ATTEMPTS},
	{"before-push", required_argument, NULL, O_HOOK},
	{"path", required_argument, NULL, O_PATH},
	{"glob", required_argument, NULL, O_GLOB},
	{"status-folder", required_argument, NULL, O_STATUS},
	{"message", required_argument, NULL, 'm'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

const cli_verb cli_verb_git = {
	.name = "git",
	.run = cmd_git,
	.optstring = "+m:h",
	.options = (const struct option *const[]){options, cli_git_long_options, NULL},
	.operands = CLI_OPERAND_WORD,
	.operand_values = (const char *const[]){"fetch", "push-status", NULL},
	.hidden = true,
};

int cmd_git(int argc, char **argv)
{
	struct option opts[FO_ARRAY_LEN(options) + CLI_GIT_NOPTS];
	cli_options_join(opts, FO_ARRAY_LEN(opts), options, cli_git_long_options);
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(usage, argc < 2 ? stderr : stdout);
		fputs(cli_git_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_FAIL : EXIT_OK;
	}
	const char *sub = argv[1];
	bool fetch = strcmp(sub, "fetch") == 0, push = strcmp(sub, "push-status") == 0;
	if (!fetch && !push)
		return cli_usage_error("git", "unknown operation \"%s\" (fetch or push-status)", sub);
	cli_git_opts g = {0};
	const char *ref = NULL, *since = NULL, *branch = "main", *message = NULL, *hook = NULL;
	sync_select sel = {0};
	bool manifests = false;
	int attempts = 0;
	sync_put *puts = NULL;
	size_t nputs = 0;
	char **contents = NULL;
	int status = EXIT_FAIL, c;
	sync_repo *r = NULL;
	fo_err e = FO_ERR_INIT;
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, cli_verb_git.optstring, opts, NULL)) != -1) {
		if (cli_git_option(c, optarg, &g))
			continue;
		switch (c) {
		case O_REF: ref = optarg; break;
		case O_SINCE: since = optarg; break;
		case O_MANIFESTS: manifests = true; break;
		case O_BRANCH: branch = optarg; break;
		case O_ATTEMPTS: attempts = atoi(optarg); break;
		case O_HOOK: hook = optarg; break;
		case O_PATH: sel.folder = optarg; break;
		case O_GLOB: sel.glob = optarg; break;
		case O_STATUS: sel.status_folder = optarg; break;
		case 'm': message = optarg; break;
		case O_PUT:
		case O_DELETE: {
			char *eq = c == O_PUT ? strchr(optarg, '=') : NULL;
			if (c == O_PUT && !eq) {
				cli_usage_error("git", "--put %s: give PATH=FILE", optarg);
				goto cleanup;
			}
			puts = fo_realloc(puts, (nputs + 1) * sizeof(*puts));
			contents = fo_realloc(contents, (nputs + 1) * sizeof(*contents));
			contents[nputs] = NULL;
			if (eq) {
				size_t len = 0;
				if (fo_fs_read(eq + 1, 1024 * 1024, &contents[nputs], &len, &e) < 0) {
					fprintf(stderr, "flinkops git: %s\n", fo_err_msg(&e));
					nputs++;
					goto cleanup;
				}
				*eq = '\0';
			}
			puts[nputs].path = optarg;
			puts[nputs].content = contents[nputs];
			nputs++;
			break;
		}
		case 'h':
			fputs(usage, stdout);
			fputs(cli_git_usage, stdout);
			status = EXIT_OK;
			goto cleanup;
		default:
			cli_usage_error("git", "unknown option");
			goto cleanup;
		}
	}
	if (g.bad.code) {
		cli_usage_error("git", "%s", fo_err_msg(&g.bad));
		goto cleanup;
	}
	if (!g.repo) {
		cli_usage_error("git", "--repo is required");
		goto cleanup;
	}
	if (cli_git_open(&g, &r, &e) < 0) {
		fprintf(stderr, "flinkops git: %s\n", fo_err_msg(&e));
		goto cleanup;
	}
	if (fetch) {
		char commit[SYNC_OID_HEX];
		if (sync_fetch(r, ref, commit, &e) < 0) {
			fprintf(stderr, "flinkops git: %s\n", fo_err_msg(&e));
			goto cleanup;
		}
		printf("commit %s\n", commit);
		if (since) {
			sync_changes ch = {0};
			if (sync_diff(r, since, commit, &sel, &ch, &e) < 0) {
				fprintf(stderr, "flinkops git: %s\n", fo_err_msg(&e));
				goto cleanup;
			}
			printf("rewritten %s\n", ch.rewritten ? "yes" : "no");
			for (size_t i = 0; i < ch.n; i++)
				printf("%c %s\n", ch.v[i].kind == SYNC_ADDED ? 'A' : ch.v[i].kind == SYNC_CHANGED ? 'M' : 'D',
				       ch.v[i].path);
			sync_changes_free(&ch);
		}
		if (manifests) {
			sync_files f = {0};
			fo_diags notes = FO_DIAGS_INIT;
			if (sync_read_manifests(r, commit, &sel, &f, &notes, &e) < 0) {
				fprintf(stderr, "flinkops git: %s\n", fo_err_msg(&e));
				fo_diags_free(&notes);
				goto cleanup;
			}
			cli_print_diags(&notes);
			printf("manifests %zu\n", f.n);
			for (size_t i = 0; i < f.n; i++)
				printf("file %s %s %zu\n", f.v[i].path, f.v[i].blob, f.v[i].len);
			sync_files_free(&f);
			fo_diags_free(&notes);
		}
	} else {
		if (!message) {
			cli_usage_error("git", "-m MESSAGE is required");
			goto cleanup;
		}
		sync_push_opts po = {0};
		int used = 0;
		po.attempts = attempts;
		po.attempts_used = &used;
		if (hook) {
			po.before_push = run_hook;
			po.ctx = (void *)hook;
		}
		char commit[SYNC_OID_HEX];
		if (sync_commit_push_ex(r, branch, puts, nputs, message, NULL, &po, commit, &e) < 0) {
			fprintf(stderr, "flinkops git: %s\n", fo_err_msg(&e));
			printf("attempts %d\n", used);
			goto cleanup;
		}
		printf("commit %s\nattempts %d\n", commit, used);
	}
	status = EXIT_OK;
cleanup:
	for (size_t i = 0; i < nputs; i++)
		free(contents[i]);
	free(contents);
	free(puts);
	sync_free(r);
	fo_err_clear(&e);
	fo_err_clear(&g.bad);
	return status;
}
