/*
 * The stateful streaming job of the flinkops test rig.
 *
 * An unbounded, rate-limited source emits 0, 1, 2, ...; each number is keyed
 * by (number % keys) and a keyed counter (ValueState<Long>, operator uid
 * "counter") counts the records of its key. A reporter with parallelism 1
 * keeps the newest count of every key and publishes the largest:
 *   - as the gauge "maxCount" of the operator "counter-report";
 *   - in a file (--counter-file), written as temp file + rename, one decimal
 *     number and a newline, at most every --report-ms milliseconds.
 * The reporter publishes nothing until it has seen every key since it
 * started, so the first value after a restore is larger than every value
 * published before the savepoint when the counts were restored, and small
 * (about rate/keys per second of run time) when they were not.
 *
 * When the file named by --fail-marker exists, the counter throws, so that
 * tests can make the job fail and restart on demand. While the file named by
 * --slow-snapshot-marker exists, every snapshot of the counter (checkpoint
 * or savepoint) waits, so that tests can make a savepoint take longer than
 * any timeout and complete it when they remove the file.
 *
 * Arguments (all optional, "--key value"):
 *   --counter-file PATH     where to write the largest count (none: no file)
 *   --fail-marker PATH      fail while this file exists (none: never)
 *   --slow-snapshot-marker PATH  snapshots wait while this file exists (at most 10 minutes)
 *   --rate N                records per second over all source subtasks (200)
 *   --keys N                number of distinct keys (8)
 *   --report-ms N           file write interval in milliseconds (200)
 *   --checkpoint-ms N       checkpoint interval in milliseconds (1000)
 *   --restart-attempts N    fixed-delay restart attempts (2147483647; 0 fails at once)
 *   --restart-delay-ms N    delay between restarts in milliseconds (1000)
 *   --name NAME             job name ("flinkops-rig-counter")
 *   --event-time-origin MS  event time: number i carries the timestamp
 *                           MS + i * 1000 / rate (ms since the epoch) and is
 *                           emitted no earlier than that moment, so a job
 *                           restored from older state replays what it missed
 *                           as fast as it can, then keeps pace with the clock;
 *                           watermarks follow the timestamps (none without it);
 *                           the source then runs with parallelism 1
 *   --event-time-lag-ms N   with --event-time-origin: every timestamp N ms
 *                           earlier (0): a job whose watermarks stay N ms
 *                           behind another's, however fast it runs
 */
package io.flinkops.rig;

import java.io.IOException;

import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.Map;

import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.streaming.api.datastream.DataStreamSource;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.util.Collector;

public final class CounterJob {

	private CounterJob() {
	}

	/** "--key value" arguments; a key without a value is "true". */
	static Map<String, String> parseArgs(String[] args) {
		Map<String, String> m = new HashMap<>();
		for (int i = 0; i < args.length; i++) {
			String a = args[i];
			if (!a.startsWith("--") || a.length() == 2) {
				throw new IllegalArgumentException("expected --key, got '" + a + "'");
			}
			String key = a.substring(2);
			if (i + 1 < args.length && !args[i + 1].startsWith("--")) {
				m.put(key, args[++i]);
			} else {
				m.put(key, "true");
			}
		}
		return m;
	}

	static long num(Map<String, String> m, String key, long dflt) {
		String v = m.get(key);
		if (v == null) {
			return dflt;
		}
		try {
			return Long.parseLong(v);
		} catch (NumberFormatException e) {
			throw new IllegalArgumentException("--" + key + " must be a number, got '" + v + "'");
		}
	}

	public static void main(String[] args) throws Exception {
		Map<String, String> a = parseArgs(args);
		String counterFile = a.get("counter-file");
		String failMarker = a.get("fail-marker");
		String slowMarker = a.get("slow-snapshot-marker");
		long rate = num(a, "rate", 200);
		int keys = (int) num(a, "keys", 8);
		long reportMs = num(a, "report-ms", 200);
		long checkpointMs = num(a, "checkpoint-ms", 1000);
		long restartAttempts = num(a, "restart-attempts", Integer.MAX_VALUE);
		long restartDelayMs = num(a, "restart-delay-ms", 1000);
		String name = a.getOrDefault("name", "flinkops-rig-counter");
		final long origin = num(a, "event-time-origin", -1);
		final long lagMs = num(a, "event-time-lag-ms", 0);
		if (rate <= 0 || keys <= 0 || reportMs <= 0 || checkpointMs <= 0 || restartAttempts < 0 || restartDelayMs < 0
				|| num(a, "event-time-lag-ms", 0) < 0) {
			throw new IllegalArgumentException(
					"--rate, --keys, --report-ms, --checkpoint-ms must be positive, --event-time-lag-ms not negative");
		}

		Configuration conf = new Configuration();
		conf.setString("execution.checkpointing.interval", checkpointMs + " ms");
		conf.setString("execution.checkpointing.externalized-checkpoint-retention", "RETAIN_ON_CANCELLATION");
		conf.setString("execution.checkpointing.min-pause", Math.max(1, checkpointMs / 2) + " ms");
		conf.setString("restart-strategy.type", "fixed-delay");
		conf.setString("restart-strategy.fixed-delay.attempts", Long.toString(restartAttempts));
		conf.setString("restart-strategy.fixed-delay.delay", restartDelayMs + " ms");
		StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
		env.configure(conf);

		final long k = keys;
		final long perSecond = rate;
		DataGeneratorSource<Long> source;
		WatermarkStrategy<Long> watermarks;
		if (origin < 0) {
			source = new DataGeneratorSource<>(
					index -> index, Long.MAX_VALUE, RateLimiterStrategy.perSecond(rate), Types.LONG);
			watermarks = WatermarkStrategy.noWatermarks();
		} else {
			// the clock is the rate limit: a number is emitted once its time
			// has come, and at once when it is already past (a replay)
			source = new DataGeneratorSource<>(index -> {
				long due = origin + index * 1000 / perSecond;
				long wait = due - System.currentTimeMillis();
				if (wait > 0) {
					Thread.sleep(wait);
				}
				return index;
			}, Long.MAX_VALUE, RateLimiterStrategy.noOp(), Types.LONG);
			watermarks = WatermarkStrategy.<Long>forMonotonousTimestamps()
					.withTimestampAssigner((v, ts) -> origin + v * 1000 / perSecond - lagMs);
		}
		DataStreamSource<Long> sequence = env.fromSource(source, watermarks, "sequence");
		if (origin >= 0) {
			// one reader: the sequence's numbers are its clock, and a second
			// reader would start half way to Long.MAX_VALUE
			sequence.setParallelism(1);
		}
		sequence.uid("sequence")
				.keyBy(v -> v % k, Types.LONG)
				.process(new Counter(failMarker, slowMarker))
				.uid("counter")
				.name("counter")
				.process(new Reporter(counterFile, keys, reportMs))
				.uid("counter-report")
				.name("counter-report")
				.setParallelism(1)
				.sinkTo(new DiscardingSink<>())
				.uid("discard")
				.name("discard")
				.setParallelism(1);
		env.execute(name);
	}

	/** Counts the records of each key; emits (key, count). */
	static final class Counter extends KeyedProcessFunction<Long, Long, Tuple2<Long, Long>>
			implements CheckpointedFunction {
		private static final long serialVersionUID = 1L;
		private final String failMarker;
		private final String slowMarker;
		private transient ValueState<Long> count;
		private transient long nextMarkerCheck;

		Counter(String failMarker, String slowMarker) {
			this.failMarker = failMarker;
			this.slowMarker = slowMarker;
		}

		@Override
		public void snapshotState(FunctionSnapshotContext ctx) throws Exception {
			if (slowMarker == null) {
				return;
			}
			long until = System.currentTimeMillis() + 600_000L;
			while (Files.exists(Paths.get(slowMarker)) && System.currentTimeMillis() < until) {
				Thread.sleep(100);
			}
		}

		@Override
		public void initializeState(FunctionInitializationContext ctx) {
		}

		@Override
		public void open(OpenContext ctx) {
			count = getRuntimeContext().getState(new ValueStateDescriptor<>("count", Types.LONG));
		}

		@Override
		public void processElement(Long value, Context ctx, Collector<Tuple2<Long, Long>> out) throws Exception {
			if (failMarker != null) {
				long now = System.currentTimeMillis();
				if (now >= nextMarkerCheck) {
					nextMarkerCheck = now + 100;
					if (Files.exists(Paths.get(failMarker))) {
						throw new IllegalStateException("flinkops-rig: fail marker present: " + failMarker);
					}
				}
			}
			Long c = count.value();
			long n = (c == null ? 0 : c) + 1;
			count.update(n);
			out.collect(Tuple2.of(ctx.getCurrentKey(), n));
		}
	}

	/** Publishes the largest count over all keys (gauge and file). */
	static final class Reporter extends ProcessFunction<Tuple2<Long, Long>, Long> {
		private static final long serialVersionUID = 1L;
		private final String counterFile;
		private final int keys;
		private final long reportMs;
		private transient Map<Long, Long> latest;
		private transient volatile long published;
		private transient long max;
		private transient long written;
		private transient long nextWrite;

		Reporter(String counterFile, int keys, long reportMs) {
			this.counterFile = counterFile;
			this.keys = keys;
			this.reportMs = reportMs;
		}

		@Override
		public void open(OpenContext ctx) {
			latest = new HashMap<>();
			published = 0;
			written = -1;
			getRuntimeContext().getMetricGroup().gauge("maxCount", (Gauge<Long>) () -> published);
		}

		@Override
		public void processElement(Tuple2<Long, Long> kc, Context ctx, Collector<Long> out) throws Exception {
			latest.put(kc.f0, kc.f1);
			if (kc.f1 > max) {
				max = kc.f1;
			}
			if (latest.size() < keys) {
				return;
			}
			published = max;
			long now = System.currentTimeMillis();
			if (now >= nextWrite) {
				nextWrite = now + reportMs;
				write();
			}
		}

		@Override
		public void close() throws Exception {
			write();
		}

		private void write() throws IOException {
			if (counterFile == null || published == 0 || published == written) {
				return;
			}
			Path target = Paths.get(counterFile);
			// a temporary file of this writer's own: two jobs may write the
			// same file (the two colours of a blue/green deployment), and a
			// shared name would let one rename the other's away
			Path tmp = target.resolveSibling(target.getFileName() + ".tmp-" + ProcessHandle.current().pid() + "-"
					+ System.identityHashCode(this));
			try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.US_ASCII)) {
				w.write(Long.toString(published));
				w.write('\n');
			}
			Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
			written = published;
		}
	}
}
