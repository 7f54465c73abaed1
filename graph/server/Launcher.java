// A real Neo4j Community server, embedded in this JVM, with Bolt on 127.0.0.1.
//
// Run by `ringscope db start` as a single-file program (no build step):
//   java -Xmx<heap> -cp '<lib>/*' Launcher.java <home> <bolt-port> <pagecache-bytes>
// The password for the `neo4j` user comes from the environment variable
// RINGSCOPE_NEO4J_PASSWORD (not argv, so it does not show in `ps`).
//
// Only settings of the pinned Neo4j version are used: unknown keys abort start-up.
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import java.util.List;

import inet.ipaddr.IPAddressString;
import org.neo4j.configuration.GraphDatabaseInternalSettings;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;

public class Launcher {
    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: Launcher <home> <bolt-port> <pagecache-bytes>");
            System.exit(2);
        }
        Path home = Path.of(args[0]).toAbsolutePath();
        int port = Integer.parseInt(args[1]);
        long pagecache = Long.parseLong(args[2]);
        String password = System.getenv("RINGSCOPE_NEO4J_PASSWORD");
        if (password == null || password.length() < 8) {
            System.err.println("RINGSCOPE_NEO4J_PASSWORD must be set (8 characters or more)");
            System.exit(2);
        }
        Files.createDirectories(home.resolve("data"));
        Files.createDirectories(home.resolve("logs"));
        // LOAD CSV may read neither files nor the network: an empty import folder, file URLs off, and
        // every address blocked (a READ transaction can still run LOAD CSV; see queries/console.py).
        Path noImports = Files.createDirectories(home.resolve("no-imports"));

        DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(home)
                .setConfig(GraphDatabaseSettings.data_directory, home.resolve("data"))
                .setConfig(GraphDatabaseSettings.logs_directory, home.resolve("logs"))
                // Bolt is off by default when embedded.
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
                .setConfig(BoltConnector.advertised_address, new SocketAddress("127.0.0.1", port))
                .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
                .setConfig(GraphDatabaseSettings.auth_enabled, true)
                .setConfig(GraphDatabaseSettings.pagecache_memory, pagecache)
                // Preallocating 250 MB transaction logs wastes disk on small machines.
                .setConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
                .setConfig(GraphDatabaseSettings.keep_logical_logs, "100M size")
                // No telemetry leaves this machine.
                .setConfig(GraphDatabaseSettings.udc_enabled, false)
                .setConfig(BoltConnector.server_bolt_telemetry_enabled, false)
                .setConfig(GraphDatabaseSettings.transaction_timeout, Duration.ofMinutes(30))
                .setConfig(GraphDatabaseSettings.allow_file_urls, false)
                .setConfig(GraphDatabaseSettings.load_csv_file_url_root, noImports)
                .setConfig(GraphDatabaseInternalSettings.cypher_ip_blocklist,
                        List.of(new IPAddressString("0.0.0.0/0"), new IPAddressString("::/0")))
                .build();

        // The hook comes first: whatever happens below, SIGTERM shuts the
        // database down cleanly.
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("ringscope: shutting down Neo4j");
            dbms.shutdown();
            stopped.countDown();
        }));

        // The embedded API runs with full rights, so it can set the password of
        // the only Community user; doing it on every start keeps the stored
        // password file the single source of truth. Neo4j refuses to "change"
        // a password to the one it already has: that is the normal restart.
        try {
            dbms.database("system").executeTransactionally(
                    "ALTER USER neo4j SET PASSWORD $password CHANGE NOT REQUIRED",
                    Map.of("password", password));
        } catch (RuntimeException e) {
            String message = String.valueOf(e.getMessage());
            if (!message.contains("cannot be the same")) {
                System.err.println("ringscope: could not set the password of user neo4j: " + message);
                System.exit(1);
            }
        }
        System.out.println("ringscope: Neo4j ready, Bolt on 127.0.0.1:" + port);
        System.out.flush();
        stopped.await();
    }
}
