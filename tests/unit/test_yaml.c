/*
 * Unit tests for lib/yaml: positions, duplicate keys, the limits that make
 * untrusted input safe (size, depth, alias expansion), reader errors, merge
 * keys, and the writer's round trip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "lib/json.h"
#include "lib/yaml.h"

static fo_yaml_file *load_ok(const char *text)
{
	fo_yaml_file *f = NULL;
	fo_diags d = FO_DIAGS_INIT;
	int rc = fo_yaml_load("t.yaml", text, strlen(text), NULL, &f, &d);
	if (rc != 0 && d.n)
		fprintf(stderr, "unexpected: %s\n", d.v[0].msg);
	assert_int_equal(rc, 0);
	assert_int_equal(d.n, 0);
	fo_diags_free(&d);
	return f;
}

/* Load text that must fail; check the first diagnostic's position and that
 * its message contains `want`. */
static void load_fails(const char *text, size_t len, const fo_yaml_limits *lim, int line, int col, const char *want)
{
	fo_yaml_file *f = NULL;
	fo_diags d = FO_DIAGS_INIT;
	int rc = fo_yaml_load("t.yaml", text, len, lim, &f, &d);
	assert_true(rc < 0);
	assert_null(f);
	assert_int_equal(d.nerrors, 1);
	if (!strstr(d.v[0].msg, want))
		fail_msg("message \"%s\" lacks \"%s\"", d.v[0].msg, want);
	if (line >= 0) {
		assert_int_equal(d.v[0].line, line);
		assert_int_equal(d.v[0].col, col);
	}
	fo_diags_free(&d);
}

static void test_positions(void **state)
{
	(void)state;
	fo_yaml_file *f = load_ok("a: 1\nb:\n  c: [x, \"y\"]\n  d: |\n    text\n");
	assert_int_equal(f->ndocs, 1);
	fo_yaml_node *root = f->docs[0];
	assert_int_equal(root->kind, FO_YAML_MAP);
	fo_yaml_node *b = fo_yaml_get(root, "b");
	assert_non_null(b);
	fo_yaml_node *c = fo_yaml_get(b, "c");
	assert_int_equal(c->line, 3);
	assert_int_equal(c->col, 6);
	assert_int_equal(c->n, 2);
	assert_true(c->items[0]->plain);
	assert_false(c->items[1]->plain);
	assert_int_equal(c->items[1]->col, 10);
	fo_yaml_node *dnode = fo_yaml_get(b, "d");
	assert_string_equal(dnode->str, "text\n");
	assert_false(dnode->plain);
	fo_yaml_node *key = fo_yaml_get_key(b, "d");
	assert_int_equal(key->line, 4);
	assert_int_equal(key->col, 3);
	fo_yaml_file_free(f);
}

static void test_multiple_documents(void **state)
{
	(void)state;
	fo_yaml_file *f = load_ok("a: 1\n---\nb: 2\n---\n");
	assert_int_equal(f->ndocs, 3);
	assert_non_null(fo_yaml_get(f->docs[1], "b"));
	assert_true(fo_yaml_is_null(f->docs[2]));
	fo_yaml_file_free(f);
}

static void test_duplicate_key(void **state)
{
	(void)state;
	const char *t = "spec:\n  jobManager: {}\n  taskManager: {}\n  jobManager: {}\n";
	load_fails(t, strlen(t), NULL, 4, 3, "duplicate key \"jobManager\" (first at line 2, column 3)");
	/* in a big mapping, found through the hash index */
	char big[8192];
	size_t n = 0;
	for (int i = 0; i < 200; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "k%d: %d\n", i, i);
	n += (size_t)snprintf(big + n, sizeof(big) - n, "k137: again\n");
	load_fails(big, n, NULL, 201, 1, "duplicate key \"k137\"");
}

static void test_alias_expansion(void **state)
{
	(void)state;
	fo_yaml_file *f = load_ok("base: &b {x: 1, y: [1, 2]}\ncopy: *b\n");
	fo_yaml_node *copy = fo_yaml_get(f->docs[0], "copy");
	assert_int_equal(copy->kind, FO_YAML_MAP);
	assert_int_equal(copy->line, 2);
	assert_int_equal(fo_yaml_get(copy, "y")->n, 2);
	fo_yaml_file_free(f);
}

static void test_alias_bomb(void **state)
{
	(void)state;
	/* the classic "billion laughs": 9 levels of 9 aliases each */
	const char *bomb =
		"a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
		"b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
		"c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
		"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
		"e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
		"f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
		"g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
		"h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
		"i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
	clock_t t0 = clock();
	load_fails(bomb, strlen(bomb), NULL, -1, -1, "alias bomb");
	/* refused after a bounded amount of work, not after a billion copies */
	double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	assert_true(secs < 1.0);

	/* few nodes, long strings: 9,000 copies of a 900 KB string took 8 GB
	 * before copies were counted in bytes too (found while writing the
	 * fuzz targets); now they stop at the file size limit */
	fo_buf b = FO_BUF_INIT;
	fo_buf_puts(&b, "a: &a \"");
	for (int i = 0; i < 4000; i++)
		fo_buf_putc(&b, 'x');
	fo_buf_puts(&b, "\"\nb: [*a");
	for (int i = 0; i < 300; i++)
		fo_buf_puts(&b, ", *a");
	fo_buf_puts(&b, "]\n");
	load_fails(b.ptr, b.len, NULL, -1, -1, "copied bytes (an alias bomb?)");
	fo_yaml_limits lim = {0};
	lim.max_bytes = 4u << 20; /* what a file may hold bounds the copies too */
	fo_yaml_file *f = NULL;
	fo_diags d = FO_DIAGS_INIT;
	assert_int_equal(fo_yaml_load("t.yaml", b.ptr, b.len, &lim, &f, &d), 0);
	assert_int_equal(fo_yaml_get(f->docs[0], "b")->n, 301);
	fo_yaml_file_free(f);
	fo_diags_free(&d);
	fo_buf_free(&b);
}

static void test_alias_errors(void **state)
{
	(void)state;
	const char *t1 = "a: *nope\n";
	load_fails(t1, strlen(t1), NULL, 1, 4, "unknown alias *nope");
	const char *t2 = "a: &x\n  b: *x\n";
	load_fails(t2, strlen(t2), NULL, 2, 6, "refers to a node that contains it");
}

static void test_depth_limit(void **state)
{
	(void)state;
	size_t n = 100000;
	char *deep = malloc(2 * n + 1);
	memset(deep, '[', n);
	memset(deep + n, ']', n);
	deep[2 * n] = '\0';
	load_fails(deep, 2 * n, NULL, 1, 65, "nesting deeper than 64 levels");
	free(deep);
	fo_yaml_limits lim = {0};
	lim.max_depth = 3;
	const char *t = "a:\n  b:\n    c:\n      d: 1\n";
	load_fails(t, strlen(t), &lim, 4, 7, "nesting deeper than 3 levels");
}

static void test_size_limit(void **state)
{
	(void)state;
	fo_yaml_limits lim = {0};
	lim.max_bytes = 16;
	const char *t = "a: 0123456789abcdef\n";
	load_fails(t, strlen(t), &lim, 0, 0, "over the limit of 16 bytes");
}

static void test_node_limit(void **state)
{
	(void)state;
	fo_yaml_limits lim = {0};
	lim.max_nodes = 5;
	const char *t = "[1, 2, 3, 4, 5, 6]\n";
	load_fails(t, strlen(t), &lim, 1, 14, "more than 5 nodes");
}

static void test_reader_errors(void **state)
{
	(void)state;
	const char *tabs = "spec:\n\tname: x\n";
	load_fails(tabs, strlen(tabs), NULL, 2, 1, "tab character");
	const char bad_utf8[] = "a: b\nc: \xff\xfe\n";
	load_fails(bad_utf8, sizeof(bad_utf8) - 1, NULL, 2, 4, "UTF-8");
	const char nul[] = "a: b\0c\n";
	load_fails(nul, sizeof(nul) - 1, NULL, 1, 5, "control characters");
	const char *esc = "a: \"x\\0y\"\n";
	load_fails(esc, strlen(esc), NULL, 1, 4, "NUL character");
	const char *unclosed = "a: [1, 2\n";
	load_fails(unclosed, strlen(unclosed), NULL, 2, 1, "did not find expected ',' or ']'");
	const char *complex_key = "? [a]\n: b\n";
	load_fails(complex_key, strlen(complex_key), NULL, 1, 3, "mapping key must be a plain string");
}

static void test_merge_keys(void **state)
{
	(void)state;
	fo_yaml_file *f = load_ok("base: &b {x: 1, y: 2}\n"
				  "m:\n  <<: *b\n  y: 3\n"
				  "n:\n  <<: [{z: 1}, {z: 2, w: 5}]\n");
	fo_yaml_node *m = fo_yaml_get(f->docs[0], "m");
	assert_int_equal(m->n, 2);
	assert_string_equal(fo_yaml_get(m, "y")->str, "3");
	assert_string_equal(fo_yaml_get(m, "x")->str, "1");
	fo_yaml_node *n = fo_yaml_get(f->docs[0], "n");
	assert_string_equal(fo_yaml_get(n, "z")->str, "1");
	assert_string_equal(fo_yaml_get(n, "w")->str, "5");
	fo_yaml_file_free(f);
	const char *bad = "m:\n  <<: 5\n";
	load_fails(bad, strlen(bad), NULL, 2, 7, "merge key");
	/* a list of merge sources that holds a non-mapping anywhere, not only
	 * last, is refused (these were a segmentation fault) */
	static const struct {
		const char *text;
		int line, col;
	} bad_lists[] = {
		{"<<: [[a], {}]\n", 1, 5},
		{"a:\n  <<: [[x], {b: 1}]\n", 2, 7},
		{"<<:\n- [x]\n- {b: 1}\n", 2, 1},
		{"<<: [x, {b: 1}]\n", 1, 5},
		{"<<: [{b: 1}, 7]\n", 1, 5},
	};
	for (size_t i = 0; i < sizeof(bad_lists) / sizeof(bad_lists[0]); i++)
		load_fails(bad_lists[i].text, strlen(bad_lists[i].text), NULL, bad_lists[i].line, bad_lists[i].col,
			   "merge key");
	/* an anchor on the "<<" key itself outlives the merge */
	f = load_ok("m: {&k <<: {x: 1}, y: 2}\nn: [*k]\n");
	n = fo_yaml_get(f->docs[0], "n");
	assert_string_equal(n->items[0]->str, "<<");
	assert_string_equal(fo_yaml_get(fo_yaml_get(f->docs[0], "m"), "x")->str, "1");
	fo_yaml_file_free(f);
}

/* Numbers far outside int64 are read and written back without an
 * out-of-range conversion (undefined behaviour that UBSan reports). */
static void test_big_numbers(void **state)
{
	(void)state;
	fo_yaml_file *f = load_ok("a: 1e90\nb: 9.3e18\nc: -1e19\nd: 9223372036854775808\ne: 4503599627370496\n");
	cJSON *j = fo_yaml_to_json(f->docs[0]);
	assert_true(cJSON_GetObjectItem(j, "a")->valuedouble == 1e90);
	fo_buf b = FO_BUF_INIT;
	fo_yaml_emit(&b, j);
	/* whole numbers with every digit (the double's exact value), never an
	 * exponent: YAML 1.1 reads "9.3e+18" as a string */
	assert_non_null(strstr(b.ptr, "a: 999999999999999966484112715463900049825186092620125502979674597309179755437379230686511104\n"));
	assert_non_null(strstr(b.ptr, "b: 9300000000000000000\n"));
	assert_non_null(strstr(b.ptr, "e: 4503599627370496\n"));
	fo_yaml_file *back = load_ok(b.ptr);
	cJSON *j2 = fo_yaml_to_json(back->docs[0]);
	char *h1 = fo_json_hash(j), *h2 = fo_json_hash(j2);
	assert_string_equal(h1, h2);
	free(h1);
	free(h2);
	cJSON_Delete(j);
	cJSON_Delete(j2);
	fo_yaml_file_free(back);
	fo_yaml_file_free(f);
	fo_buf_free(&b);
}

/* Load one document and convert it to JSON. */
static cJSON *json_of(const char *text)
{
	fo_yaml_file *f = load_ok(text);
	cJSON *j = fo_yaml_to_json(f->docs[0]);
	fo_yaml_file_free(f);
	return j;
}

static char *yaml_of(const cJSON *v)
{
	fo_buf b = FO_BUF_INIT;
	fo_yaml_emit(&b, v);
	return fo_buf_detach(&b);
}

/* Integers stay exact from YAML in to YAML out and in the content hash: at
 * and past 2^53, past int64, negative; non-integral numbers are written so
 * that every reader takes them for the same float (with a dot). */
static void test_exact_numbers(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"9007199254740993", "9007199254740993"},
		{"9007199254740992", "9007199254740992"},
		{"-9007199254740993", "-9007199254740993"},
		{"+9223372036854775807", "9223372036854775807"},
		{"-9223372036854775808", "-9223372036854775808"},
		{"123456789012345678901234567890", "123456789012345678901234567890"},
		{"-000012345678901234567890", "-12345678901234567890"},
		{"100000000000000000", "100000000000000000"},
		{"1e17", "100000000000000000"},
		{"1.0e17", "100000000000000000"},
		{"42", "42"},
		{"0.1", "0.1"},
		{"1e-7", "1.0e-07"},
		{"-2.5e-300", "-2.5e-300"},
		{"1.7976931348623157e308", "179769313486231570814527423731704356798070567525844996598917476803157260780028538760589558632766878171540458953514382464234321326889464182768467546703537516986049910576551282076245490090389328944075868508455133942304583236903222948165808559332123348274797826204144723168738177180919299881250404026184124858368"},
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(cases); i++) {
		char *text = fo_asprintf("v: %s\n", cases[i].in);
		cJSON *j = json_of(text);
		char *y = yaml_of(j);
		char *want = fo_asprintf("v: %s\n", cases[i].out);
		if (strcmp(y, want) != 0)
			fail_msg("%s was written as \"%s\", want \"%s\"", cases[i].in, y, want);
		/* read back: the same value, the same hash */
		cJSON *back = json_of(y);
		char *h1 = fo_json_hash(j), *h2 = fo_json_hash(back);
		if (strcmp(h1, h2) != 0)
			fail_msg("%s does not read back the same", cases[i].in);
		free(h1);
		free(h2);
		cJSON_Delete(back);
		cJSON_Delete(j);
		free(want);
		free(y);
		free(text);
	}
	/* two integers one apart past 2^53 are two values, to the hash too */
	cJSON *a = json_of("v: 9007199254740993\n"), *b = json_of("v: 9007199254740992\n");
	char *ha = fo_json_hash(a), *hb = fo_json_hash(b);
	assert_string_not_equal(ha, hb);
	free(ha);
	free(hb);
	cJSON_Delete(a);
	cJSON_Delete(b);
}

/* "..." and "---" at column 0 end or start a document: never written bare
 * there, as a plain scalar or as a line of a block scalar. */
static void test_document_markers(void **state)
{
	(void)state;
	static const char *const strs[] = {"...", "---", "... more", "--- more", "a\n...\n---\nb\n", "...\n---",
					   "x\n...", "...x"};
	for (size_t i = 0; i < FO_ARRAY_LEN(strs); i++) {
		cJSON *top = cJSON_CreateString(strs[i]);
		cJSON *list = cJSON_CreateStringArray(&strs[i], 1);
		cJSON *obj = cJSON_CreateObject();
		cJSON_AddStringToObject(obj, strs[i], strs[i]);
		const cJSON *vals[] = {top, list, obj};
		for (size_t k = 0; k < FO_ARRAY_LEN(vals); k++) {
			char *y = yaml_of(vals[k]);
			for (const char *line = y; *line; line = strchr(line, '\n') + 1) {
				if (strncmp(line, "...", 3) == 0 || strncmp(line, "---", 3) == 0)
					fail_msg("\"%s\" was written with a line starting a document marker:\n%s", strs[i], y);
				if (!strchr(line, '\n'))
					break;
			}
			fo_yaml_file *f = load_ok(y);
			assert_int_equal(f->ndocs, 1);
			cJSON *back = fo_yaml_to_json(f->docs[0]);
			char *h1 = fo_json_hash(vals[k]), *h2 = fo_json_hash(back);
			if (strcmp(h1, h2) != 0)
				fail_msg("\"%s\" does not read back:\n%s", strs[i], y);
			free(h1);
			free(h2);
			cJSON_Delete(back);
			fo_yaml_file_free(f);
			free(y);
		}
		cJSON_Delete(top);
		cJSON_Delete(list);
		cJSON_Delete(obj);
	}
}

/* The JSON writer (apply bodies, render -o json, the content hash): numbers
 * exact, raw items as their digits, strings escaped where YAML readers
 * need it, a byte that is not UTF-8 as U+FFFD, so that JSON read back and
 * written again is the same; formatted as cJSON_Print formats. */
static void test_json_writer(void **state)
{
	(void)state;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "n", 1e17);
	cJSON_AddNumberToObject(o, "f", 0.1);
	cJSON_AddNumberToObject(o, "e", 1e-7);
	cJSON_AddItemToObject(o, "r", cJSON_CreateRaw("9007199254740993"));
	cJSON_AddStringToObject(o, "s", "q\" b\\ nl\n tab\t del\x7f ls\xe2\x80\xa8 bad\xff caf\xc3\xa9");
	cJSON_AddItemToObject(o, "l", cJSON_Parse("[1,{\"a\":[]},{}]"));
	char *compact = fo_json_print(o, false);
	assert_string_equal(compact, "{\"n\":100000000000000000,\"f\":0.1,\"e\":1.0e-07,\"r\":9007199254740993,"
				     "\"s\":\"q\\\" b\\\\ nl\\n tab\\t del\\u007f ls\\u2028 bad\xef\xbf\xbd caf\xc3\xa9\","
				     "\"l\":[1,{\"a\":[]},{}]}");
	cJSON *back = cJSON_Parse(compact);
	/* cJSON reads the raw item into a double: all else is the same bytes */
	cJSON_ReplaceItemInObject(back, "r", cJSON_CreateRaw("9007199254740993"));
	char *again = fo_json_print(back, false);
	assert_string_equal(again, compact);
	/* formatted: byte for byte what cJSON_Print writes for the same tree,
	 * where cJSON's numbers are exact */
	cJSON *plain = cJSON_Parse("{\"a\":1,\"b\":[1,2,{\"c\":\"x\",\"d\":{}}],\"e\":{\"f\":[]},\"g\":null,\"h\":true}");
	char *ours = fo_json_print(plain, true), *theirs = cJSON_Print(plain);
	assert_string_equal(ours, theirs);
	free(ours);
	free(theirs);
	cJSON_Delete(plain);
	free(again);
	free(compact);
	cJSON_Delete(back);
	cJSON_Delete(o);
}

static void test_scalar_types(void **state)
{
	(void)state;
	fo_yaml_file *f = load_ok("i: 42\nneg: -7\nq: \"42\"\nf: 1.5\nb: true\nno: no\nn: ~\ne:\nv: 1.17.1\n");
	fo_yaml_node *r = f->docs[0];
	int64_t i;
	double d;
	bool b;
	assert_true(fo_yaml_as_int(fo_yaml_get(r, "i"), &i));
	assert_int_equal(i, 42);
	assert_true(fo_yaml_as_int(fo_yaml_get(r, "neg"), &i));
	assert_int_equal(i, -7);
	assert_false(fo_yaml_as_int(fo_yaml_get(r, "q"), &i));
	assert_true(fo_yaml_as_number(fo_yaml_get(r, "f"), &d));
	assert_true(d == 1.5);
	assert_true(fo_yaml_as_bool(fo_yaml_get(r, "b"), &b) && b);
	assert_false(fo_yaml_as_bool(fo_yaml_get(r, "no"), &b));
	assert_true(fo_yaml_is_null(fo_yaml_get(r, "n")));
	assert_true(fo_yaml_is_null(fo_yaml_get(r, "e")));
	assert_false(fo_yaml_as_number(fo_yaml_get(r, "v"), &d));
	assert_string_equal(fo_yaml_kind_name(fo_yaml_get(r, "v")), "string");
	fo_yaml_file_free(f);
}

static void test_plain_safe(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		bool safe;
	} cases[] = {
		{"hello", true}, {"flink:1.20", true}, {"-Xmx1g", true}, {"a b", true},
		{"", false}, {"yes", false}, {"no", false}, {"on", false}, {"true", false}, {"~", false},
		{"null", false}, {"1.10", false}, {"42", false}, {"0x1F", false}, {"1e3", false},
		{"12:30", false}, {"..x", true}, {"a: b", false}, {"a #c", false}, {"*x", false},
		{"&y", false}, {"!t", false}, {"'q'", false}, {"\"q\"", false}, {"trailing ", false},
		{" leading", false}, {"line\nbreak", false}, {"{x}", false}, {"2026-11-23", false},
		{"1024Mi", true}, {"s3://bucket/key", true}, {"---", false},
		/* a sign then a dot: a number to a reader (found by fuzzing) */
		{"+.10", false}, {"-.5", false}, {".5", false}, {"+.x", true},
		/* YAML 1.2 core floats with a sign */
		{"+.inf", false}, {"+.Inf", false}, {"+.INF", false}, {"-.inf", false}, {"-.Inf", false},
		{".nan", false}, {".NaN", false}, {".NAN", false}, {".inf", false},
		/* timestamps as PyYAML and go-yaml read them: t or T, z or Z, spaces */
		{"2024-01-01t00:00:00z", false}, {"2024-01-01T00:00:00Z", false},
		{"2001-12-14t21:59:43.10-05:00", false}, {"2001-12-14 21:59:43.10 -5", false},
		/* YAML 1.1 and go-yaml numbers */
		{"0o17", false}, {"0O17", false}, {"017", false}, {"0b1010", false}, {"1_000", false},
		{"0x1f", false}, {"190:20:30", false}, {"1E3", false}, {"-1", false}, {"+1", false},
		{"._5", false}, /* PyYAML's float pattern \.[0-9_]+ takes it, then fails on it */
		/* YAML 1.1 booleans and null, merge and value keys */
		{"y", false}, {"Y", false}, {"n", false}, {"N", false}, {"Yes", false}, {"YES", false},
		{"No", false}, {"On", false}, {"OFF", false}, {"Off", false}, {"False", false}, {"TRUE", false},
		{"Null", false}, {"NULL", false}, {"<<", false}, {"=", false},
		/* document markers */
		{"...", false}, {"... x", false}, {"--- x", false},
		/* words that are strings to every reader */
		{"1024m", true}, {"2g", true}, {"v1.10", true}, {"12h", true}, {"yes please", true},
		{"nothing", true}, {"+x", true}, {"..x", true}, {"a...", true}, {"inf", true}, {"nan", true},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (fo_yaml_plain_safe(cases[i].s) != cases[i].safe)
			fail_msg("plain_safe(\"%s\") should be %d", cases[i].s, cases[i].safe);
}

/* Write `in` as YAML, read it back, and require the same JSON. */
static void assert_round_trip(const cJSON *in)
{
	fo_buf b = FO_BUF_INIT;
	fo_yaml_emit(&b, in);
	fo_yaml_file *f = load_ok(b.ptr);
	cJSON *out = fo_yaml_to_json(f->docs[0]);
	char *h1 = fo_json_hash(in), *h2 = fo_json_hash(out);
	if (strcmp(h1, h2) != 0) {
		char *s = cJSON_PrintUnformatted(out);
		fail_msg("round trip differs:\n%s\nread back as %s", b.ptr, s);
	}
	free(h1);
	free(h2);
	cJSON_Delete(out);
	fo_yaml_file_free(f);
	fo_buf_free(&b);
}

/* Writing any JSON value and reading it back gives the same value. */
static void test_emit_round_trip(void **state)
{
	(void)state;
	const char *json =
		"{\"s\":\"yes\",\"n\":3,\"f\":1.5,\"b\":false,\"z\":null,\"v\":\"1.10\",\"e\":\"\","
		"\"multi\":\"line one\\nline two\\n\",\"nonl\":\"a\\nb\",\"trail\":\"a \\nb\\n\","
		"\"ctl\":\"tab\\there\",\"q\":\"say \\\"hi\\\"\",\"list\":[1,\"two\",{\"k\":\"v\",\"k2\":[]},[3,4]],"
		"\"obj\":{\"nested\":{\"deep\":\"x: y\"}},\"empty\":{},\"weird key: #\":1,\"dash\":\"-\"}";
	cJSON *in = cJSON_Parse(json);
	assert_non_null(in);
	assert_round_trip(in);
	cJSON_Delete(in);
}

/* Characters a YAML reader refuses or reads as line breaks (NEL, U+2028,
 * U+2029), the byte order mark and C1 controls are written escaped, in
 * keys, plain places and multi-line text alike, and read back the same; a
 * byte that is not UTF-8 cannot be said in YAML and becomes U+FFFD. (A
 * U+2028 written as it was read back as a line break: found by fuzzing.) */
static void test_emit_special_characters(void **state)
{
	(void)state;
	static const char *const strs[] = {
		"mem\xe2\x80\xa8 \"-2g\"", "a\xc2\x85" "b", "p\xe2\x80\xa9", "\xef\xbb\xbf" "bom", "x\xef\xbf\xbey",
		"c1\xc2\x80", "two\nlines\xe2\x80\xa8\n", "caf\xc3\xa9 \xe5\xa4\xb1\xe8\xb4\xa5 \xf0\x9f\x98\x80", "a\x7f",
	};
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		cJSON *in = cJSON_CreateObject();
		cJSON_AddStringToObject(in, "v", strs[i]);
		cJSON_AddNumberToObject(in, strs[i], 1);
		cJSON_AddItemToObject(in, "l", cJSON_CreateStringArray(&strs[i], 1));
		assert_round_trip(in);
		cJSON_Delete(in);
	}
	cJSON *bad = cJSON_CreateString("ok\xff\xc3(");
	fo_buf b = FO_BUF_INIT;
	fo_yaml_emit(&b, bad);
	assert_string_equal(b.ptr, "\"ok\\ufffd\\ufffd(\"\n");
	fo_yaml_file *f = load_ok(b.ptr);
	assert_string_equal(f->docs[0]->str, "ok\xef\xbf\xbd\xef\xbf\xbd(");
	fo_yaml_file_free(f);
	fo_buf_free(&b);
	cJSON_Delete(bad);
	/* libyaml reads at most 1024 characters of an implicit key: longer keys
	 * are written as explicit ones, with any value (found by fuzzing) */
	char *key = malloc(1101);
	memset(key, 'k', 1100);
	key[1100] = '\0';
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, key, "v");
	key[0] = 'm';
	cJSON_AddItemToObject(o, key, cJSON_Parse("{\"a\":[1,{\"b\":2}]}"));
	key[0] = 'l';
	cJSON_AddItemToObject(o, key, cJSON_Parse("[[1],{\"c\":\"two\\nlines\"}]"));
	key[0] = '\n'; /* quoted: 1,101 characters and more */
	cJSON_AddNullToObject(o, key);
	cJSON *list = cJSON_CreateArray();
	cJSON_AddItemToArray(list, o);
	assert_round_trip(list);
	cJSON_Delete(list);
	free(key);
	assert_false(fo_yaml_plain_safe("a\xe2\x80\xa8"));
	assert_true(fo_yaml_plain_safe("caf\xc3\xa9"));
}

/* Each document's bytes, as the file records them, read back alone as
 * the same document: whatever the separators, the comments between, the
 * characters of more than one byte before it. */
static void test_document_ranges(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		size_t ndocs;
		const char *first_doc; /* the first document's bytes */
	} cases[] = {
		{"a: 1\n", 1, "a: 1\n"},
		{"\xc3\xa9t\xc3\xa9: \"\xe2\x82\xac\"\n---\nb: [1, 2]\n", 2, "\xc3\xa9t\xc3\xa9: \"\xe2\x82\xac\"\n"},
		{"# a comment\n---\nname: x # here\n...\n---\n# between\nother: \"\xf0\x9f\x98\x80\"\n--- {c: 3}\n", 3,
		 "---\nname: x # here\n..."},
		{"--- |\n  text \xe2\x82\xac\n---\n- a\n- b\n", 2, "--- |\n  text \xe2\x82\xac\n"},
		{"k: &x {a: 1}\nl: *x\n---\nm: 2", 2, "k: &x {a: 1}\nl: *x\n"},
		/* a byte order mark, which libyaml does not count */
		{"\xef\xbb\xbf\xc3\xa9: 1\n---\nb: 2\n", 2, "\xc3\xa9: 1\n"},
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(cases); i++) {
		fo_yaml_file *f = load_ok(cases[i].text);
		assert_int_equal(f->ndocs, cases[i].ndocs);
		char *first = fo_strndup(f->text + f->doc_off[0], f->doc_len[0]);
		if (strcmp(first, cases[i].first_doc) != 0)
			fail_msg("case %zu: the first document is \"%s\", want \"%s\"", i, first, cases[i].first_doc);
		free(first);
		for (size_t k = 0; k < f->ndocs; k++) {
			assert_true(f->doc_off[k] + f->doc_len[k] <= f->len);
			fo_yaml_file *one = NULL;
			fo_diags d = FO_DIAGS_INIT;
			assert_int_equal(fo_yaml_load("one.yaml", f->text + f->doc_off[k], f->doc_len[k], NULL, &one, &d), 0);
			assert_int_equal(one->ndocs, 1);
			cJSON *a = fo_yaml_to_json(f->docs[k]), *b = fo_yaml_to_json(one->docs[0]);
			if (!cJSON_Compare(a, b, true))
				fail_msg("case %zu document %zu reads back different", i, k);
			cJSON_Delete(a);
			cJSON_Delete(b);
			fo_yaml_file_free(one);
			fo_diags_free(&d);
		}
		fo_yaml_file_free(f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_positions),
		cmocka_unit_test(test_multiple_documents),
		cmocka_unit_test(test_document_ranges),
		cmocka_unit_test(test_duplicate_key),
		cmocka_unit_test(test_alias_expansion),
		cmocka_unit_test(test_alias_bomb),
		cmocka_unit_test(test_alias_errors),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_node_limit),
		cmocka_unit_test(test_reader_errors),
		cmocka_unit_test(test_merge_keys),
		cmocka_unit_test(test_big_numbers),
		cmocka_unit_test(test_exact_numbers),
		cmocka_unit_test(test_document_markers),
		cmocka_unit_test(test_json_writer),
		cmocka_unit_test(test_scalar_types),
		cmocka_unit_test(test_plain_safe),
		cmocka_unit_test(test_emit_round_trip),
		cmocka_unit_test(test_emit_special_characters),
	};
	return cmocka_run_group_tests_name("yaml", tests, NULL, NULL);
}
