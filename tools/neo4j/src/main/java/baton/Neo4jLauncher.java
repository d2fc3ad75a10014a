package baton;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.graphdb.QueryExecutionException;
import org.neo4j.server.CommunityBootstrapper;

/**
 * Starts Neo4j 5 Community on loopback with auth on, a persistent home directory and the
 * Browser on the HTTP connector; prints one {@code BATON_NEO4J_READY} line with the Bolt URI
 * when ready and stops cleanly on SIGTERM/SIGINT.
 *
 * <p>Usage: {@code Neo4jLauncher HOME [BOLT_PORT|0] [HTTP_PORT|0|-1]}; the password comes from
 * {@code BATON_NEO4J_PASSWORD} (default {@code baton-dev-password}). Port 0 picks a free port;
 * HTTP port -1 turns the HTTP connector (and Browser) off.
 */
public final class Neo4jLauncher {
    private Neo4jLauncher() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: Neo4jLauncher HOME [BOLT_PORT] [HTTP_PORT]");
            System.exit(2);
        }
        Path home = Path.of(args[0]).toAbsolutePath();
        int bolt = args.length > 1 ? Integer.parseInt(args[1]) : 7687;
        int http = args.length > 2 ? Integer.parseInt(args[2]) : 7474;
        String password = System.getenv().getOrDefault("BATON_NEO4J_PASSWORD", "baton-dev-password");
        if (password.length() < 8) {
            System.err.println("BATON_NEO4J_PASSWORD must have at least 8 characters");
            System.exit(2);
        }
        Files.createDirectories(home);
        if (bolt == 0) bolt = freePort();
        if (http == 0) http = freePort();

        Map<String, String> config = new HashMap<>();
        config.put("server.default_listen_address", "127.0.0.1");
        config.put("server.default_advertised_address", "127.0.0.1");
        config.put("server.bolt.enabled", "true");
        config.put("server.bolt.listen_address", "127.0.0.1:" + bolt);
        config.put("server.http.enabled", Boolean.toString(http > 0));
        if (http > 0) config.put("server.http.listen_address", "127.0.0.1:" + http);
        config.put("server.https.enabled", "false");
        config.put("dbms.security.auth_enabled", "true");
        config.put("dbms.usage_report.enabled", "false");
        // Bounded memory and work: the JVM heap is capped by the caller (-Xmx); these keep
        // one runaway transaction from taking the server down with it.
        config.put("server.memory.pagecache.size", env("BATON_NEO4J_PAGECACHE", "256m"));
        config.put("db.memory.transaction.total.max", env("BATON_NEO4J_TX_MEMORY_TOTAL", "512m"));
        config.put("db.memory.transaction.max", env("BATON_NEO4J_TX_MEMORY", "256m"));
        config.put("db.transaction.timeout", env("BATON_NEO4J_TX_TIMEOUT", "60s"));
        config.put("db.logs.query.enabled", "OFF");
        // Extra settings, "key=value;key=value" (tests keep query plans across wipes).
        for (String pair : env("BATON_NEO4J_CONF", "").split(";")) {
            int eq = pair.indexOf('=');
            if (eq > 0) config.put(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
        }

        CommunityBootstrapper server = new CommunityBootstrapper();
        // The bootstrapper installs its own shutdown hook: SIGTERM/SIGINT stop the DBMS cleanly.
        int rc = server.start(home, config);
        if (rc != 0) {
            System.err.println("Neo4j did not start (code " + rc + "); see " + home.resolve("logs"));
            System.exit(rc);
        }
        try {
            setPassword(server.getDatabaseManagementService(), password);
        } catch (RuntimeException e) {
            // Neo4j's own threads would keep this JVM alive, not ready and never saying so.
            System.err.println("Neo4j started but the password could not be set: " + e);
            server.stop();
            System.exit(1);
        }
        exitWithParent(System.getenv("BATON_NEO4J_PARENT_PID"));
        System.out.println("BATON_NEO4J_READY bolt://127.0.0.1:" + bolt
                + (http > 0 ? " http://127.0.0.1:" + http + "/browser/" : ""));
        System.out.flush();
        new CountDownLatch(1).await();
    }

    /** The launcher owns the password: set it on every start, no change required. Its own
     *  generous timeout: on a loaded machine the first (planned) system query can take longer
     *  than db.transaction.timeout, and failing here would fail the whole start. A restart on
     *  a kept home with the same password is no change (Neo4j refuses to "change" a password
     *  to itself). */
    private static void setPassword(DatabaseManagementService dbms, String password) {
        try {
            dbms.database("system").executeTransactionally(
                    "ALTER USER neo4j IF EXISTS SET PLAINTEXT PASSWORD $pw CHANGE NOT REQUIRED",
                    Map.of("pw", password), result -> null, Duration.ofMinutes(10));
        } catch (QueryExecutionException e) {
            if (e.getMessage() == null || !e.getMessage().contains("cannot be the same")) throw e;
        }
    }

    /** A test session or bench that is killed must not leave its Neo4j behind. */
    private static void exitWithParent(String pid) {
        if (pid == null || pid.isBlank()) return;
        long parent = Long.parseLong(pid.trim());
        Thread watch = new Thread(() -> {
            while (ProcessHandle.of(parent).map(ProcessHandle::isAlive).orElse(false)) {
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException e) {
                    return;
                }
            }
            System.exit(0); // runs the bootstrapper's shutdown hook: a clean stop
        }, "baton-parent-watch");
        watch.setDaemon(true);
        watch.start();
    }

    private static String env(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isBlank() ? fallback : value;
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress("127.0.0.1", 0));
            return socket.getLocalPort();
        }
    }
}
