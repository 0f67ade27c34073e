/*
 * The command line: one function a verb, each given argc/argv from the verb
 * on and returning the process exit status. Only agent/ prints to stdout or
 * exits; everything below returns errors.
 */
#ifndef AGENT_CLI_H
#define AGENT_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "agent/pass.h"
#include "config/config.h"
#include "deploy/deploy.h"
#include "flink/flink.h"
#include "k8s/k8s.h"
#include "lib/err.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_CHANGES = 2 };

int cmd_validate(int argc, char **argv);
int cmd_render(int argc, char **argv);
int cmd_sync(int argc, char **argv);
/* plan --live: compare with the cluster (cmd_plan dispatches to it) */
int cmd_plan_live(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_wait(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_git(int argc, char **argv);
int cmd_flink(int argc, char **argv);
int cmd_agent(int argc, char **argv);
int cmd_completion(int argc, char **argv);
int cmd_explain(int argc, char **argv);

/* What a verb takes after its options. */
typedef enum cli_operand {
	CLI_OPERAND_NONE,
	CLI_OPERAND_PATHS, /* files or folders */
	CLI_OPERAND_WORD,  /* one of `operand_values`, or anything when NULL */
} cli_operand;

/*
 * A verb as main() dispatches it and `flinkops completion` and the tests
 * see it. `options` are the very tables the verb's getopt_long reads (each
 * ended by an entry with a NULL name; the list ends with NULL) and
 * `optstring` its short options, so that what completion offers cannot
 * drift from what the verb accepts. A hidden verb, a helper for tests, is
 * left out of --help and of the completion.
 */
typedef struct cli_verb {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *optstring;
	const struct option *const *options;
	const char *const *outputs; /* the values -o takes, NULL-ended; NULL: no -o */
	cli_operand operands;
	const char *const *operand_values; /* NULL-ended, or NULL */
	bool hidden;
} cli_verb;

extern const cli_verb cli_verb_validate, cli_verb_render, cli_verb_sync, cli_verb_agent, cli_verb_plan,
	cli_verb_wait, cli_verb_status, cli_verb_git, cli_verb_flink, cli_verb_completion, cli_verb_explain;
/* Every verb, in the order of --help (main.c). */
extern const cli_verb *const cli_verbs[];
extern const size_t cli_nverbs;
/* The options before the verb (main.c), ended by an entry with a NULL name,
 * and their short spellings. */
extern const struct option cli_global_options[];
extern const char cli_global_optstring[];
/* The values of --log-format, NULL-ended. */
extern const char *const cli_log_formats[];
/* plan --live's options (cmd_plan_live.c); cmd_plan hands over to it. */
extern const struct option cli_plan_live_options[];

/*
 * Join the option tables `a` and `b` (each ended by an entry with a NULL
 * name) into `out` of `cap` entries, ended the same way. Callers size `out`
 * from both tables at compile time; a table that does not fit is a bug, so
 * it aborts rather than drop an option.
 */
void cli_options_join(struct option *out, size_t cap, const struct option *a, const struct option *b);
/* The index of `value` among `choices` (NULL-ended); else -1 after a usage
 * error of `verb`: unknown WHAT "value" (a, b or c). */
int cli_choice(const char *verb, const char *what, const char *const *choices, const char *value);
/* The -o choices of a verb whose answer programs read: text, json, yaml. */
extern const char *const cli_outputs[];
/* -o VALUE of `verb`: *json when it is json or yaml, *yaml when yaml; -1
 * after a usage error naming the choices. */
int cli_output(const char *verb, const char *value, bool *json, bool *yaml);
/* A verb's machine-readable answer `v` on stdout: indented JSON, or with
 * `yaml` the same values as YAML (-o yaml, as kubectl spells it). The same
 * answer either way: a YAML reader gets what a JSON reader gets. */
void cli_print_answer(const cJSON *v, bool yaml);

/* Print every diagnostic on stderr, one `file:line:col: message` a line. */
void cli_print_diags(const fo_diags *d);
/* Diagnostics of verb `verb`: on stderr for a one-shot verb, through the
 * logger (one warning a line) in the daemon. */
void cli_report_diags(const char *verb, const fo_diags *d);
/* Whether `verb` is the daemon's: its lines all go through the logger. */
bool cli_is_daemon(const char *verb);
/* A problem of verb `verb`: "flinkops VERB: message" on stderr for a
 * one-shot verb, an error line of the logger in the daemon. */
void cli_report(const char *verb, const char *fmt, ...) FO_PRINTF(2, 3);
/* Set the log format from "text" or "json" (`where` names the flag or
 * variable in the message); -1 on anything else. */
int cli_log_format(const char *value, const char *where);
/* A usage error: message and hint on stderr; returns EXIT_FAIL. */
int cli_usage_error(const char *verb, const char *fmt, ...) FO_PRINTF(2, 3);
/* `plan --max-state-age D`: a duration above zero into *ms and 0; else -1
 * after a usage error of plan on stderr naming the value. */
int cli_max_state_age(const char *value, int64_t *ms);

/*
 * Collect the manifest files under `paths` and parse every FlinkDeployment in
 * them, checking that no namespace/name is defined twice. Problems go to `d`;
 * *nfiles counts the files read. Returns 0 when nothing was wrong.
 */
int cli_load_manifests(char **paths, int npaths, flink_deployments *out, size_t *nfiles, fo_diags *d);

struct sync_auth;
/* The git credentials the configuration names. */
void cli_sync_auth(const config *cfg, struct sync_auth *a);

/* Open the repository cache of the configuration into *repo, unless it is
 * open already. */
int cli_open_repository(const config *cfg, struct sync_repo **repo, fo_err *e);
/*
 * Fetch the configured repository and parse the FlinkDeployments of its
 * branch. *repo is the repository cache, opened here when NULL and kept by
 * the caller across passes. With `fetch` false, nothing is fetched: the
 * manifests are read again at `commit` (a commit an earlier fetch read).
 * Problems in files go to `d` (one bad file does not stop the others); a
 * failure to fetch or read is returned. *source describes what was read,
 * for reports; `commit` gets the commit id; `src` (when not NULL) gets the
 * files' blobs and the repository, for writing status files.
 */
int cli_load_repository(const config *cfg, struct sync_repo **repo, bool fetch, flink_deployments *out, size_t *nfiles,
			fo_diags *d, char **source, char commit[41], cli_source *src, fo_err *e);

#endif
