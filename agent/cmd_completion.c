/*
 * `flinkops completion bash|zsh`: print a completion script for the shell.
 * The script is written from the verbs' own tables (cli_verbs: each verb's
 * getopt_long options and short options, the values its -o takes, what it
 * takes after its options), so that a new option is completed as soon as a
 * verb accepts it. Only what the tables cannot say is kept here: which
 * options name a file or a folder, and which options are for tests alone.
 * Hidden verbs are left out, as --help leaves them out.
 */
#include <stdlib.h>
#include <string.h>

#include "agent/cli.h"
#include "lib/buf.h"
#include "lib/log.h"

static const char usage[] =
	"usage: flinkops completion bash|zsh\n"
	"\n"
	"Print a completion script for the shell on stdout: the verbs, each verb's\n"
	"options, the values of -o and of the global log options, and files and\n"
	"folders where an option or operand names one.\n"
	"\n"
	"  bash: source <(flinkops completion bash), or save it as\n"
	"        /usr/share/bash-completion/completions/flinkops\n"
	"  zsh:  save it as _flinkops in a folder of $fpath (before compinit runs)\n"
	"\n"
	"  -h, --help   this help\n"
	"\n"
	"Exit status: 0 on success, 1 on a usage error.\n";

static const struct option options[] = {
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};
static const char *const shells[] = {"bash", "zsh", NULL};

const cli_verb cli_verb_completion = {
	.name = "completion",
	.run = cmd_completion,
	.optstring = "h",
	.options = (const struct option *const[]){options, NULL},
	.operands = CLI_OPERAND_WORD,
	.operand_values = shells,
};

/* What an option's argument is, beyond a free word. */
typedef enum comp_kind { COMP_WORD, COMP_FILE, COMP_DIR, COMP_HIDDEN } comp_kind;

/* The options whose argument is a file or a folder, and the ones that are
 * for tests alone (not in --help, so not completed either). By name: an
 * option means the same on every verb that has it. A name no verb has
 * stops the script (write_script), so a renamed option cannot leave its
 * hint behind. */
static const struct {
	const char *name;
	comp_kind kind;
} hints[] = {
	{"config", COMP_FILE},
	{"manifests", COMP_DIR},
	{"repo", COMP_DIR},
	{"cache", COMP_DIR},
	{"password-file", COMP_FILE},
	{"ca-file", COMP_FILE},
	{"ssh-key", COMP_FILE},
	{"known-hosts", COMP_FILE},
	{"crash-points", COMP_HIDDEN},
};

/* One option as the script completes it. */
typedef struct comp_opt {
	const char *name; /* the long name; NULL for a short option alone */
	char letter;      /* the short option, or 0 */
	int val;          /* getopt_long's value, to pair the two */
	bool arg;         /* takes an argument */
	comp_kind kind;
	const char *const *values; /* the argument's values, NULL-ended, or NULL */
} comp_opt;

typedef struct comp_opts {
	comp_opt *v;
	size_t n, cap;
} comp_opts;

/* The kind of option `name`'s argument. */
static comp_kind kind_of(const char *name)
{
	for (size_t i = 0; i < FO_ARRAY_LEN(hints); i++)
		if (strcmp(hints[i].name, name) == 0)
			return hints[i].kind;
	return COMP_WORD;
}

/* The values of option `name`'s argument for verb `v` (NULL: the global
 * options), or NULL when it takes any word. */
static const char *const *values_of(const cli_verb *v, const char *name)
{
	if (v && v->outputs && strcmp(name, "output") == 0)
		return v->outputs;
	if (strcmp(name, "log-format") == 0)
		return cli_log_formats;
	if (strcmp(name, "log-level") == 0)
		return fo_log_level_names();
	return NULL;
}

/*
 * The options of `tables` (NULL-ended) and `optstring`, each once, for verb
 * `v` (NULL: the global options), into *out (emptied first).
 */
static void collect(const cli_verb *v, const struct option *const *tables, const char *optstring, comp_opts *out)
{
	out->n = 0;
	for (size_t t = 0; tables[t]; t++)
		for (const struct option *o = tables[t]; o->name; o++) {
			bool seen = false;
			for (size_t i = 0; i < out->n && !seen; i++)
				seen = out->v[i].name && strcmp(out->v[i].name, o->name) == 0;
			if (seen || kind_of(o->name) == COMP_HIDDEN)
				continue;
			out->v = fo_grow(out->v, &out->cap, out->n + 1, sizeof(*out->v));
			out->v[out->n++] = (comp_opt){o->name, 0, o->val, o->has_arg != no_argument, kind_of(o->name),
						      values_of(v, o->name)};
		}
	for (const char *p = optstring; *p; p++) {
		if (*p == '+' || *p == ':')
			continue;
		bool paired = false;
		for (size_t i = 0; i < out->n; i++)
			if (out->v[i].val == *p) {
				out->v[i].letter = *p;
				paired = true;
			}
		if (!paired) {
			out->v = fo_grow(out->v, &out->cap, out->n + 1, sizeof(*out->v));
			out->v[out->n++] = (comp_opt){NULL, *p, *p, p[1] == ':', COMP_WORD, NULL};
		}
	}
}

/* Whether the script may hold `s` unquoted: names of options, verbs and
 * values are plain words; anything else would be a bug in a table. */
static bool plain_word(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') && !(*s >= '0' && *s <= '9') && *s != '-' &&
		    *s != '_' && *s != '.')
			return false;
	return true;
}

/* Check every word of `o` (see plain_word); -1 and a message when one is not. */
static int check_words(const comp_opts *o)
{
	for (size_t i = 0; i < o->n; i++) {
		const char *bad = o->v[i].name && !plain_word(o->v[i].name) ? o->v[i].name : NULL;
		for (size_t k = 0; !bad && o->v[i].values && o->v[i].values[k]; k++)
			if (!plain_word(o->v[i].values[k]))
				bad = o->v[i].values[k];
		if (bad) {
			fprintf(stderr, "flinkops completion: \"%s\" is not a plain word\n", bad);
			return -1;
		}
	}
	return 0;
}

/* The words of `list` (NULL-ended), one space between. */
static void put_words(fo_buf *b, const char *const *list)
{
	for (size_t i = 0; list && list[i]; i++)
		fo_buf_printf(b, "%s%s", i ? " " : "", list[i]);
}

/* The spellings of option `x` joined by `sep`: -o|--output, -o --output. */
static void put_spelling(fo_buf *b, const comp_opt *x, const char *sep)
{
	if (x->letter)
		fo_buf_printf(b, "-%c%s", x->letter, x->name ? sep : "");
	if (x->name)
		fo_buf_printf(b, "--%s", x->name);
}

/* Every spelling of the options of `o`, one space between. */
static void put_spellings(fo_buf *b, const comp_opts *o)
{
	for (size_t i = 0; i < o->n; i++) {
		if (i)
			fo_buf_putc(b, ' ');
		put_spelling(b, &o->v[i], " ");
	}
}

/* The names of the visible verbs, one space between. */
static void put_verbs(fo_buf *b)
{
	bool first = true;
	for (size_t i = 0; i < cli_nverbs; i++)
		if (!cli_verbs[i]->hidden) {
			fo_buf_printf(b, "%s%s", first ? "" : " ", cli_verbs[i]->name);
			first = false;
		}
}

/* bash: the case arms that complete the argument of an option in `prev`. */
static void bash_values(fo_buf *b, const comp_opts *o, const char *indent)
{
	for (size_t i = 0; i < o->n; i++) {
		const comp_opt *x = &o->v[i];
		if (!x->arg)
			continue;
		fo_buf_puts(b, indent);
		put_spelling(b, x, "|");
		if (x->values) {
			fo_buf_puts(b, ") COMPREPLY=($(compgen -W '");
			put_words(b, x->values);
			fo_buf_puts(b, "' -- \"$cur\")); return ;;\n");
		} else if (x->kind == COMP_FILE) {
			fo_buf_puts(b, ") _flinkops_files; return ;;\n");
		} else if (x->kind == COMP_DIR) {
			fo_buf_puts(b, ") _flinkops_dirs; return ;;\n");
		} else {
			fo_buf_puts(b, ") return ;;\n");
		}
	}
}

static const char bash_head[] =
	"# bash completion for flinkops, printed by `flinkops completion bash` from\n"
	"# the verbs' own option tables. Load it with\n"
	"#   source <(flinkops completion bash)\n"
	"# or save it as /usr/share/bash-completion/completions/flinkops.\n"
	"\n"
	"_flinkops_files() {\n"
	"\tif declare -F _filedir >/dev/null; then _filedir; else COMPREPLY=($(compgen -f -- \"$cur\")); fi\n"
	"}\n"
	"_flinkops_dirs() {\n"
	"\tif declare -F _filedir >/dev/null; then _filedir -d; else COMPREPLY=($(compgen -d -- \"$cur\")); fi\n"
	"}\n"
	"\n"
	"_flinkops() {\n"
	"\tlocal cur prev words cword split i verb= ddash=0\n"
	"\tCOMPREPLY=()\n"
	"\tif declare -F _init_completion >/dev/null; then\n"
	"\t\t_init_completion -s || return\n"
	"\telse\n"
	"\t\twords=(\"${COMP_WORDS[@]}\") cword=$COMP_CWORD\n"
	"\t\tcur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}\n"
	"\tfi\n"
	"\t# the verb: the first word after the global options; -- ends a verb's options\n"
	"\tfor ((i = 1; i < cword; i++)); do\n"
	"\t\tif [[ -z $verb ]]; then\n"
	"\t\t\tcase ${words[i]} in\n";

/* bash: the global options (`g`) and the dispatch on the verb. */
static void bash_globals(fo_buf *b, const comp_opts *g)
{
	fo_buf_puts(b, bash_head);
	for (size_t i = 0; i < g->n; i++)
		if (g->v[i].arg) {
			fo_buf_puts(b, "\t\t\t");
			put_spelling(b, &g->v[i], "|");
			fo_buf_puts(b, ") ((i++)) ;;\n");
		}
	fo_buf_puts(b, "\t\t\t-*) ;;\n"
		       "\t\t\t*) verb=${words[i]} ;;\n"
		       "\t\t\tesac\n"
		       "\t\telif [[ ${words[i]} == -- ]]; then\n"
		       "\t\t\tddash=1\n"
		       "\t\tfi\n"
		       "\tdone\n"
		       "\tcase $verb in\n"
		       "\t'')\n"
		       "\t\tcase $prev in\n");
	bash_values(b, g, "\t\t");
	fo_buf_puts(b, "\t\tesac\n"
		       "\t\tif [[ $cur == -* ]]; then\n"
		       "\t\t\tCOMPREPLY=($(compgen -W '");
	put_spellings(b, g);
	fo_buf_puts(b, "' -- \"$cur\"))\n"
		       "\t\telse\n"
		       "\t\t\tCOMPREPLY=($(compgen -W '");
	put_verbs(b);
	fo_buf_puts(b, "' -- \"$cur\"))\n"
		       "\t\tfi\n"
		       "\t\t;;\n");
}

/* bash: the case arm of verb `verb`, whose options are `o`. */
static void bash_verb(fo_buf *b, const cli_verb *verb, const comp_opts *o)
{
	fo_buf_printf(b, "\t%s)\n"
			 "\t\tif ((!ddash)); then\n"
			 "\t\t\tcase $prev in\n",
		      verb->name);
	bash_values(b, o, "\t\t\t");
	fo_buf_puts(b, "\t\t\tesac\n"
		       "\t\t\tif [[ $cur == -* ]]; then\n"
		       "\t\t\t\tCOMPREPLY=($(compgen -W '");
	put_spellings(b, o);
	fo_buf_puts(b, "' -- \"$cur\"))\n"
		       "\t\t\t\treturn\n"
		       "\t\t\tfi\n"
		       "\t\tfi\n");
	if (verb->operands == CLI_OPERAND_PATHS) {
		fo_buf_puts(b, "\t\t_flinkops_files\n");
	} else if (verb->operands == CLI_OPERAND_WORD && verb->operand_values) {
		fo_buf_puts(b, "\t\tCOMPREPLY=($(compgen -W '");
		put_words(b, verb->operand_values);
		fo_buf_puts(b, "' -- \"$cur\"))\n");
	}
	fo_buf_puts(b, "\t\t;;\n");
}

/* zsh: one _arguments spec a spelling of each option of `o`. */
static void zsh_specs(fo_buf *b, const comp_opts *o, const char *indent)
{
	for (size_t i = 0; i < o->n; i++) {
		const comp_opt *x = &o->v[i];
		for (int spelling = 0; spelling < 2; spelling++) {
			if (spelling == 0 ? !x->letter : !x->name)
				continue;
			fo_buf_puts(b, indent);
			if (spelling == 0)
				fo_buf_printf(b, "'-%c%s", x->letter, x->arg ? "+" : "");
			else
				fo_buf_printf(b, "'--%s%s", x->name, x->arg ? "=" : "");
			if (x->arg) {
				const char *what = x->name ? x->name : "value";
				if (x->values) {
					fo_buf_printf(b, ":%s:(", what);
					put_words(b, x->values);
					fo_buf_puts(b, ")");
				} else if (x->kind == COMP_FILE) {
					fo_buf_printf(b, ":%s:_files", what);
				} else if (x->kind == COMP_DIR) {
					fo_buf_printf(b, ":%s:_files -/", what);
				} else {
					fo_buf_printf(b, ":%s: ", what);
				}
			}
			fo_buf_puts(b, "' \\\n");
		}
	}
}

static const char zsh_head[] =
	"#compdef flinkops\n"
	"# zsh completion for flinkops, printed by `flinkops completion zsh` from the\n"
	"# verbs' own option tables. Save it as _flinkops in a folder of $fpath\n"
	"# before compinit runs.\n"
	"\n"
	"_flinkops() {\n"
	"\tlocal curcontext=$curcontext state line ret=1\n"
	"\ttypeset -A opt_args\n"
	"\t_arguments -C \\\n";

/* zsh: the global options (`g`) and the dispatch on the verb. */
static void zsh_globals(fo_buf *b, const comp_opts *g)
{
	fo_buf_puts(b, zsh_head);
	zsh_specs(b, g, "\t\t");
	fo_buf_puts(b, "\t\t'1:verb:(");
	put_verbs(b);
	fo_buf_puts(b, ")' \\\n"
		       "\t\t'*::argument:->verb' && ret=0\n"
		       "\t[[ $state == verb ]] || return ret\n"
		       "\tcurcontext=${curcontext%:*:*}:flinkops-$words[1]:\n"
		       "\tcase $words[1] in\n");
}

/* zsh: the case arm of verb `verb`, whose options are `o`. */
static void zsh_verb(fo_buf *b, const cli_verb *verb, const comp_opts *o)
{
	fo_buf_printf(b, "\t(%s)\n"
			 "\t\t_arguments -s -S \\\n",
		      verb->name);
	zsh_specs(b, o, "\t\t\t");
	if (verb->operands == CLI_OPERAND_PATHS) {
		fo_buf_puts(b, "\t\t\t'*:path:_files' \\\n");
	} else if (verb->operands == CLI_OPERAND_WORD && verb->operand_values) {
		fo_buf_puts(b, "\t\t\t'1:argument:(");
		put_words(b, verb->operand_values);
		fo_buf_puts(b, ")' \\\n");
	}
	fo_buf_puts(b, "\t\t\t&& ret=0\n"
		       "\t\t;;\n");
}

/* How a shell's script is written: the head with the global options, one
 * part a visible verb, and the end. */
typedef struct comp_shell {
	const char *name;
	void (*globals)(fo_buf *b, const comp_opts *g);
	void (*verb)(fo_buf *b, const cli_verb *verb, const comp_opts *o);
	const char *tail;
} comp_shell;

static const comp_shell comp_shells[] = {
	{"bash", bash_globals, bash_verb,
	 "\tesac\n"
	 "}\n"
	 "complete -F _flinkops flinkops\n"},
	{"zsh", zsh_globals, zsh_verb,
	 "\tesac\n"
	 "\treturn ret\n"
	 "}\n"
	 "\n"
	 "# autoloaded from $fpath, this file is the function's body; sourced, it\n"
	 "# registers the function\n"
	 "if [[ $funcstack[1] == _flinkops ]]; then\n"
	 "\t_flinkops \"$@\"\n"
	 "else\n"
	 "\tcompdef _flinkops flinkops\n"
	 "fi\n"},
};

/* Whether some verb (hidden ones too) or the global options have an
 * option `name`: a hint for a name no table has any more is stale. */
static bool option_exists(const char *name)
{
	for (const struct option *o = cli_global_options; o->name; o++)
		if (strcmp(o->name, name) == 0)
			return true;
	for (size_t v = 0; v < cli_nverbs; v++)
		for (size_t t = 0; cli_verbs[v]->options[t]; t++)
			for (const struct option *o = cli_verbs[v]->options[t]; o->name; o++)
				if (strcmp(o->name, name) == 0)
					return true;
	return false;
}

/* The script of shell `sh` into `b`, from the global options and every
 * visible verb's tables; -1 after a message on a table it cannot hold. */
static int write_script(const comp_shell *sh, fo_buf *b)
{
	comp_opts o = {0};
	int rc = -1;
	for (size_t i = 0; i < FO_ARRAY_LEN(hints); i++)
		if (!option_exists(hints[i].name)) {
			fprintf(stderr, "flinkops completion: a hint names --%s, which no verb has\n", hints[i].name);
			goto cleanup;
		}
	collect(NULL, (const struct option *const[]){cli_global_options, NULL}, cli_global_optstring, &o);
	if (check_words(&o) < 0)
		goto cleanup;
	sh->globals(b, &o);
	for (size_t v = 0; v < cli_nverbs; v++) {
		const cli_verb *verb = cli_verbs[v];
		if (verb->hidden)
			continue;
		collect(verb, verb->options, verb->optstring, &o);
		if (!plain_word(verb->name) || check_words(&o) < 0)
			goto cleanup;
		sh->verb(b, verb, &o);
	}
	fo_buf_puts(b, sh->tail);
	rc = 0;
cleanup:
	free(o.v);
	return rc;
}

int cmd_completion(int argc, char **argv)
{
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, cli_verb_completion.optstring, options, NULL)) != -1) {
		switch (c) {
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: return cli_usage_error("completion", "unknown option");
		}
	}
	if (optind >= argc)
		return cli_usage_error("completion", "name the shell: bash or zsh");
	if (optind + 1 < argc)
		return cli_usage_error("completion", "unexpected argument \"%s\"", argv[optind + 1]);
	int shell = cli_choice("completion", "shell", shells, argv[optind]);
	if (shell < 0)
		return EXIT_FAIL;
	const comp_shell *sh = NULL;
	for (size_t i = 0; i < FO_ARRAY_LEN(comp_shells); i++)
		if (strcmp(comp_shells[i].name, shells[shell]) == 0)
			sh = &comp_shells[i];
	if (!sh) { /* `shells` names one comp_shells lacks: a bug here */
		fprintf(stderr, "flinkops completion: no script for %s\n", shells[shell]);
		return EXIT_FAIL;
	}
	fo_buf b = FO_BUF_INIT;
	int rc = write_script(sh, &b);
	if (rc == 0)
		fwrite(fo_buf_cstr(&b), 1, b.len, stdout);
	fo_buf_free(&b);
	return rc == 0 ? EXIT_OK : EXIT_FAIL;
}
