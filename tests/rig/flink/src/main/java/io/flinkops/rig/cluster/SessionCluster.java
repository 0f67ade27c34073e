/*
 * A Flink session cluster in one JVM for the flinkops test rig.
 *
 * Runs Flink's MiniCluster with the session dispatcher and its REST endpoint,
 * with flink-runtime-web on the class path so that jar upload and run
 * (POST /jars/upload, POST /jars/:id/run) work the way they do on a
 * standalone session cluster. REST listens on 127.0.0.1 only.
 *
 *   SessionCluster PORT SLOTS DATA_DIR [key=value ...]
 *
 * DATA_DIR receives savepoints/ (execution.checkpointing.savepoint-dir),
 * checkpoints/ (execution.checkpointing.dir), jars/ (web.upload.dir, where
 * uploaded jars are kept under flink-web-upload/), blobs/ and tmp/. Extra
 * key=value arguments are Flink configuration entries that override these
 * defaults. The process runs until it is terminated.
 */
package io.flinkops.rig.cluster;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;

import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.JobManagerOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.configuration.WebOptions;
import org.apache.flink.configuration.BlobServerOptions;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;

public final class SessionCluster {

	/** Set by the shutdown hook: the JVM is being terminated on purpose. */
	private static volatile boolean terminating;

	private SessionCluster() {
	}

	private static void usage(String why) {
		System.err.println("session-cluster: " + why);
		System.err.println("usage: SessionCluster PORT SLOTS DATA_DIR [flink.key=value ...]");
		System.exit(2);
	}

	public static void main(String[] args) throws Exception {
		if (args.length < 3) {
			usage("missing arguments");
		}
		int port = 0;
		int slots = 0;
		try {
			port = Integer.parseInt(args[0]);
			slots = Integer.parseInt(args[1]);
		} catch (NumberFormatException e) {
			usage("PORT and SLOTS must be numbers");
		}
		if (port <= 0 || port > 65535 || slots <= 0) {
			usage("PORT must be 1..65535 and SLOTS at least 1");
		}
		Path data = new File(args[2]).getAbsoluteFile().toPath();
		Path savepoints = data.resolve("savepoints");
		Path checkpoints = data.resolve("checkpoints");
		Path jars = data.resolve("jars");
		Path blobs = data.resolve("blobs");
		Path tmp = data.resolve("tmp");
		for (Path p : new Path[] {savepoints, checkpoints, jars, blobs, tmp}) {
			Files.createDirectories(p);
		}

		Configuration conf = new Configuration();
		// Loopback only: REST, RPC and data exchange.
		conf.set(RestOptions.ADDRESS, "127.0.0.1");
		conf.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
		conf.set(RestOptions.PORT, port);
		conf.set(JobManagerOptions.ADDRESS, "127.0.0.1");
		conf.set(JobManagerOptions.BIND_HOST, "127.0.0.1");
		conf.set(TaskManagerOptions.HOST, "127.0.0.1");
		conf.set(TaskManagerOptions.BIND_HOST, "127.0.0.1");
		// Jar submission over REST, as on a standalone session cluster.
		conf.set(WebOptions.SUBMIT_ENABLE, true);
		conf.set(WebOptions.CANCEL_ENABLE, true);
		conf.set(WebOptions.UPLOAD_DIR, jars.toString());
		// State: savepoints and checkpoints into local folders.
		conf.set(CheckpointingOptions.SAVEPOINT_DIRECTORY, savepoints.toUri().toString());
		conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, checkpoints.toUri().toString());
		conf.set(BlobServerOptions.STORAGE_DIRECTORY, blobs.toString());
		conf.set(CoreOptions.TMP_DIRS, tmp.toString());
		conf.set(TaskManagerOptions.NUM_TASK_SLOTS, slots);

		for (int i = 3; i < args.length; i++) {
			String kv = args[i];
			int eq = kv.indexOf('=');
			if (eq <= 0) {
				usage("not key=value: " + kv);
			}
			conf.setString(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
		}
		// Keep the slot count consistent when overridden as a key.
		slots = conf.get(TaskManagerOptions.NUM_TASK_SLOTS);

		MiniClusterConfiguration mcc = new MiniClusterConfiguration.Builder()
				.setConfiguration(conf)
				.setNumTaskManagers(1)
				.setNumSlotsPerTaskManager(slots)
				.build();
		MiniCluster cluster = new MiniCluster(mcc);

		Runtime.getRuntime().addShutdownHook(new Thread(() -> {
			terminating = true;
			try {
				cluster.closeAsync().get();
			} catch (Exception e) {
				System.err.println("session-cluster: shutdown: " + e);
			}
		}, "session-cluster-shutdown"));

		cluster.start();
		System.out.println("session-cluster: REST " + cluster.getRestAddress().get()
				+ " slots=" + slots + " data=" + data);
		System.out.flush();

		// Serve until the JVM is terminated (SIGTERM runs the hook above) or
		// the cluster stops by itself.
		while (cluster.isRunning() || terminating) {
			Thread.sleep(1000);
		}
		System.err.println("session-cluster: cluster stopped by itself");
		System.exit(1);
	}
}
