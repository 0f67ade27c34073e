/*
 * What the git verbs (plan, wait, status and the hidden `git`) share: the
 * options that name a repository and its credentials, and opening it. A
 * folder that exists is opened in place; anything else is a URL cloned into
 * the cache folder and fetched.
 */
#ifndef AGENT_GITCLI_H
#define AGENT_GITCLI_H

#include <getopt.h>
#include <stdbool.h>

#include "lib/err.h"
#include "sync/sync.h"

typedef struct cli_git_opts {
	const char *repo;
	const char *cache;
	const char *username, *password_file, *ca_file, *ssh_key_file, *known_hosts;
	bool accept_unknown;
	int timeout_seconds;
	fo_err bad; /* set by cli_git_option on a bad value */
} cli_git_opts;

/* getopt_long ids of the shared options start here. */
#define CLI_GIT_OPT_BASE 0x1000
#define CLI_GIT_NOPTS 9
/* The shared long options (CLI_GIT_NOPTS of them and an end), to join to a
 * verb's table (cli_options_join). */
extern const struct option cli_git_long_options[CLI_GIT_NOPTS + 1];
/* Their help text. */
extern const char cli_git_usage[];

/* Take one shared option; false when `c` is not one of them. A bad value
 * sets o->bad. */
bool cli_git_option(int c, const char *arg, cli_git_opts *o);
/* Open the repository the options name (nothing fetched yet). */
int cli_git_open(const cli_git_opts *o, sync_repo **out, fo_err *e);
/* Whether the options name a local folder (opened in place). */
bool cli_git_is_local(const cli_git_opts *o);

#endif
