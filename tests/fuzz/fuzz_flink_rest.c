/*
 * Fuzz target "flink_rest": what a JobManager (or anything on its port)
 * answers. The first byte picks the parser — each flink_rest_parse_* of
 * flink/rest.h, flink_rest_error_text and flink_rest_trace_text — and the
 * rest is the body. Beyond no crash, leak or undefined behaviour: what a
 * parser accepts has the shape its header promises (job and trigger ids of
 * 32 hex digits, a jar id that is a file name, slots available within the
 * total, a COMPLETED savepoint with a location, a failed one with a cause),
 * a disposal that failed with its cause, vertex ids a path can carry, the
 * error and trace texts stay within their bound plus an ellipsis, and
 * every string handed on — results and error messages — is valid UTF-8 when
 * the body is: they end up in status files, which must read back.
 */
#include "tests/fuzz/fuzz.h"

#include "flink/rest.h"

static bool body_utf8;

static void text_ok(const char *what, const char *s)
{
	if (body_utf8)
		FUZZ_CHECK(fuzz_str_utf8(s), "%s is not UTF-8: \"%s\"", what, s);
}

static void job_ok(const flink_job_info *j)
{
	FUZZ_CHECK(flink_rest_valid_job_id(j->id), "job id \"%s\"", j->id ? j->id : "(null)");
	FUZZ_CHECK(j->state_name && *j->state_name, "a job without a state name");
	text_ok("job name", j->name);
	text_ok("job state", j->state_name);
}

static void parse(unsigned which, const char *body, size_t max)
{
	fo_err e = FO_ERR_INIT;
	int rc = 0;
	char *s = NULL;
	switch (which) {
	case 0: {
		flink_cluster_config c;
		if ((rc = flink_rest_parse_config(body, &c, &e)) == 0) {
			FUZZ_CHECK(c.flink_version, "config without a version");
			FUZZ_CHECK(c.refresh_interval_ms >= -1, "refresh interval %ld", c.refresh_interval_ms);
			text_ok("version", c.flink_version);
		}
		flink_cluster_config_free(&c);
		break;
	}
	case 1: {
		flink_overview o;
		if ((rc = flink_rest_parse_overview(body, &o, &e)) == 0)
			FUZZ_CHECK(o.taskmanagers >= 0 && o.slots_available >= 0 && o.slots_available <= o.slots_total &&
					   o.jobs_running >= 0,
				   "overview counts %d %d %d", o.taskmanagers, o.slots_available, o.slots_total);
		flink_overview_free(&o);
		break;
	}
	case 2: {
		flink_taskmanagers t;
		if ((rc = flink_rest_parse_taskmanagers(body, &t, &e)) == 0)
			for (size_t i = 0; i < t.n; i++)
				FUZZ_CHECK(t.v[i].id && t.v[i].slots >= 0 && t.v[i].free_slots >= 0, "TaskManager %zu", i);
		flink_taskmanagers_free(&t);
		break;
	}
	case 3: {
		flink_job_list l;
		if ((rc = flink_rest_parse_jobs(body, &l, &e)) == 0)
			for (size_t i = 0; i < l.n; i++)
				job_ok(&l.v[i]);
		flink_job_list_free(&l);
		break;
	}
	case 4: {
		flink_job_info j;
		if ((rc = flink_rest_parse_job(body, &j, &e)) == 0)
			job_ok(&j);
		flink_job_info_free(&j);
		break;
	}
	case 5: {
		flink_checkpoint_info c;
		if ((rc = flink_rest_parse_checkpoints(body, &c, &e)) == 0) {
			FUZZ_CHECK(c.completed >= 0 && c.failed >= 0, "checkpoint counts");
			text_ok("latest path", c.latest_path);
			text_ok("savepoint path", c.latest_savepoint_path);
			text_ok("restored path", c.restored_path);
			text_ok("latest failure", c.latest_failure);
		}
		flink_checkpoint_info_free(&c);
		break;
	}
	case 6: {
		flink_savepoint_status st;
		rc = flink_rest_parse_savepoint_status(body, &st, &e);
		if (rc == 0)
			FUZZ_CHECK(st.state == FLINK_SAVEPOINT_IN_PROGRESS || (st.state == FLINK_SAVEPOINT_COMPLETED && st.location),
				   "savepoint state %d", (int)st.state);
		if (st.state == FLINK_SAVEPOINT_FAILED)
			FUZZ_CHECK(rc < 0 && st.failure, "a failed savepoint without its cause");
		text_ok("savepoint location", st.location);
		text_ok("savepoint failure", st.failure);
		flink_savepoint_status_free(&st);
		break;
	}
	case 7:
		if ((rc = flink_rest_parse_trigger(body, &s, &e)) == 0)
			FUZZ_CHECK(flink_rest_valid_job_id(s), "trigger id \"%s\"", s);
		break;
	case 8:
		if ((rc = flink_rest_parse_upload(body, &s, &e)) == 0)
			FUZZ_CHECK(flink_rest_valid_jar_id(s), "jar id \"%s\"", s);
		break;
	case 9:
		if ((rc = flink_rest_parse_run(body, &s, &e)) == 0)
			FUZZ_CHECK(flink_rest_valid_job_id(s), "job id \"%s\"", s);
		break;
	case 10:
		rc = flink_rest_parse_exceptions(body, &s, &e);
		text_ok("root cause", s);
		break;
	case 11:
		s = flink_rest_error_text(body, max);
		FUZZ_CHECK(!s || (*s && strlen(s) <= max + 3), "error text of %zu bytes (max %zu)", strlen(s), max);
		text_ok("error text", s);
		break;
	case 12: {
		int64_t interval = -1;
		if ((rc = flink_rest_parse_checkpoint_config(body, &interval, &e)) == 0)
			FUZZ_CHECK(interval >= 0, "checkpoint interval %lld", (long long)interval);
		break;
	}
	case 13: {
		flink_disposal_status st;
		rc = flink_rest_parse_disposal_status(body, &st, &e);
		if (rc == 0)
			FUZZ_CHECK(!st.failure && !st.missing, "a disposal that failed without an error");
		if (st.failure || st.missing)
			FUZZ_CHECK(rc < 0 && st.done && st.failure, "a failed disposal without its cause");
		text_ok("disposal failure", st.failure);
		flink_disposal_status_free(&st);
		break;
	}
	case 14: {
		int64_t restarts = 0;
		rc = flink_rest_parse_restarts(body, &restarts, &e);
		FUZZ_CHECK(rc < 0 || restarts >= -1, "restarts %lld", (long long)restarts);
		break;
	}
	case 15: {
		flink_savepoint_status st;
		rc = flink_rest_parse_checkpoint_status(body, &st, &e);
		if (rc == 0)
			FUZZ_CHECK(st.state == FLINK_SAVEPOINT_IN_PROGRESS ||
					   (st.state == FLINK_SAVEPOINT_COMPLETED && st.checkpoint_id >= 0),
				   "checkpoint state %d id %lld", (int)st.state, (long long)st.checkpoint_id);
		if (st.state == FLINK_SAVEPOINT_FAILED)
			FUZZ_CHECK(rc < 0 && st.failure, "a failed checkpoint without its cause");
		text_ok("checkpoint failure", st.failure);
		flink_savepoint_status_free(&st);
		break;
	}
	case 16:
		rc = flink_rest_parse_checkpoint_history(body, (int64_t)(max % 64), &s, &e);
		FUZZ_CHECK(rc == 0 || !s, "a path with an error");
		FUZZ_CHECK(!s || (*s && strlen(s) <= 4096), "checkpoint path of %zu bytes", s ? strlen(s) : 0);
		text_ok("checkpoint path", s);
		break;
	case 17: {
		int64_t wm = 0;
		rc = flink_rest_parse_watermarks(body, &wm, &e);
		FUZZ_CHECK(rc == 0 || wm == FLINK_NO_WATERMARK, "a watermark with an error");
		break;
	}
	case 18: {
		flink_job_watermarks w;
		rc = flink_rest_parse_job_vertices(body, &w, &e);
		FUZZ_CHECK(rc == 0 || (!w.v && !w.n), "vertices with an error");
		FUZZ_CHECK(w.n <= FLINK_MAX_VERTICES, "%zu vertices", w.n);
		for (size_t i = 0; i < w.n; i++)
			FUZZ_CHECK(flink_rest_valid_job_id(w.v[i].id) && w.v[i].watermark == FLINK_NO_WATERMARK,
				   "vertex \"%s\"", w.v[i].id);
		flink_job_watermarks_free(&w);
		break;
	}
	default:
		s = flink_rest_trace_text(body, max);
		FUZZ_CHECK(s && strlen(s) <= max + 3, "trace text of %zu bytes (max %zu)", s ? strlen(s) : 0, max);
		text_ok("trace text", s);
		break;
	}
	FUZZ_CHECK(rc <= 0 && (rc == 0 || e.msg), "returned %d without a message", rc);
	text_ok("error message", e.msg);
	free(s);
	fo_err_clear(&e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	char *body = fuzz_cstr(data + 1, size - 1);
	body_utf8 = fuzz_utf8_valid(body, strlen(body));
	/* the texts' bound: 16 (the least trace_text takes) to 1000 (CAUSE_MAX) */
	size_t max = 16 + (size_t)(data[0] >> 4) * 65;
	parse(data[0] % 20u, body, max);
	free(body);
	return 0;
}
