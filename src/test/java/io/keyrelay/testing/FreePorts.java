package io.keyrelay.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A currently free port, for the rare listener that cannot be asked to pick its own (port 0).
 *
 * <p>Ports come from below the system's ephemeral range (32768 and up on Linux): a port the system hands out for
 * port 0 can be taken, before the test binds it, by an outgoing connection of another test running at the same
 * time. Each JVM starts at a random place in 20000–31999, never hands out a port twice, and checks that the port
 * can be bound on every address (the relay listens on the wildcard address).
 */
public final class FreePorts {
    private static final int LOW = 20_000;
    private static final int SPAN = 12_000;
    private static final AtomicInteger next = new AtomicInteger(ThreadLocalRandom.current().nextInt(SPAN));

    private FreePorts() {}

    public static int pick() {
        for (int tries = 0; tries < SPAN; tries++) {
            int port = LOW + Math.floorMod(next.getAndIncrement(), SPAN);
            try (ServerSocket s = new ServerSocket(port)) {
                return s.getLocalPort();
            } catch (IOException taken) {
                // try the next one
            }
        }
        throw new IllegalStateException("no free port in " + LOW + "-" + (LOW + SPAN - 1));
    }
}
