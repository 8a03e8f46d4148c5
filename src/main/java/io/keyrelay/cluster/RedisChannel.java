package io.keyrelay.cluster;

import io.keyrelay.text.LogText;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.time.Duration;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Redis pub/sub channel this node listens on, on a connection of its own, and whether it has heard everything
 * published there until a moment ago ({@link #current()}): a node may then trust what it has heard instead of asking
 * Redis.
 *
 * <p>Every {@link #TICK} the listening connection is checked: made (with {@code SUBSCRIBE}, then the caller's
 * catch-up read of what was published before) if it is missing or closed; and then this node publishes a heartbeat
 * of its own on the channel, on that connection (one PUBLISH per tick; the other listeners ignore it). Redis
 * delivers what is published on a channel in the order it runs the PUBLISH commands, so hearing its own heartbeat
 * proves this node has heard everything published before Redis ran that one, and that the subscription really is
 * there. The channel is current for {@link #TRUST} after the heartbeat heard last was sent: a connection cut,
 * silent, or slow, or Redis down, makes it not current within that time at most. A connection whose heartbeats have
 * not come back for twice that is replaced; a subscription that fails is tried again after 0.5 s, doubling to 30 s
 * while it keeps failing.
 */
public final class RedisChannel implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RedisChannel.class);
    static final Duration TICK = Duration.ofMillis(500);
    /** How long a heartbeat heard vouches for the channel: two ticks and a margin for a slow one. */
    public static final Duration TRUST = Duration.ofMillis(1500);
    /** What starts a heartbeat; nothing else published on a keyrelay channel starts so. */
    private static final String HEARTBEAT = "~heartbeat ";
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

    private final Redis redis;
    private final RedisClient client;
    private final String channel;
    private final Consumer<String> onMessage;
    private final Predicate<RedisCommands<String, String>> catchUp;
    private final String self = java.util.UUID.randomUUID().toString();
    private volatile StatefulRedisPubSubConnection<String, String> connection;
    /** Bumped for each new connection: what an earlier one still delivers vouches for nothing. */
    private volatile int generation;
    /** True once the current connection's catch-up read is done. */
    private volatile boolean caughtUp;
    /** System.nanoTime() until which the channel is current; 0: not current. */
    private volatile long currentUntil;
    private volatile boolean warned;
    private volatile long subscribedAt;
    private volatile long heardAt;
    /** After a failed subscription: when to try again, and how long to wait after the next failure. */
    private volatile long retryAt;
    private volatile Duration backoff = TICK;

    RedisChannel(Redis redis, RedisClient client, String channel, Consumer<String> onMessage,
            Predicate<RedisCommands<String, String>> catchUp) {
        this.redis = redis;
        this.client = client;
        this.channel = channel;
        this.onMessage = onMessage;
        this.catchUp = catchUp;
    }

    /** True when everything published on the channel until at most {@link #TRUST} ago has been handled. */
    public boolean current() {
        long until = currentUntil;
        return until != 0 && System.nanoTime() - until < 0;
    }

    /** One check: (re)subscribe and catch up if need be, then a heartbeat; run every {@link #TICK} by the probe. */
    void tick() {
        if (!redis.up()) {
            currentUntil = 0;
            return;
        }
        StatefulRedisPubSubConnection<String, String> c = connection;
        try {
            if (c == null || !c.isOpen()) {
                currentUntil = 0;
                caughtUp = false;
                if (System.nanoTime() - retryAt < 0) {
                    return; // backing off after a refused subscription
                }
                close(c);
                int gen = ++generation;
                c = client.connectPubSub();
                connection = c;
                c.addListener(new RedisPubSubAdapter<>() {
                    @Override
                    public void message(String ch, String message) {
                        if (channel.equals(ch)) {
                            heard(gen, message);
                        }
                    }
                });
                c.sync().subscribe(channel);
                // Subscribed first, then the read: what is published in between is heard, or read, or both.
                Boolean read = redis.call("catch up on " + channel, catchUp::test);
                if (read == null || !read) {
                    close(c); // not current: the next tick subscribes and reads again
                    return;
                }
                caughtUp = true;
                subscribedAt = System.nanoTime();
            } else if (System.nanoTime() - Math.max(heardAt, subscribedAt) > 2 * TRUST.toNanos()) {
                // Open, but its own heartbeats have not come back for a while: a dead connection that nothing
                // closed, or a subscription that is not there. Made afresh after the backoff.
                currentUntil = 0;
                close(c);
                connection = null;
                retryAt = System.nanoTime() + backoff.toNanos();
                backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
                return;
            }
            // On the listening connection itself (RESP3 allows any command there): a slow heartbeat must not count
            // Redis as down for the counters, which use the other connection.
            String beat = HEARTBEAT + self + " " + System.nanoTime();
            String refused = "";
            try {
                c.sync().publish(channel, beat);
            } catch (RedisCommandExecutionException e) { // Redis answered, but will not take it (an ACL, RESP2)
                refused = e.getMessage();
            }
            if (!current() && System.nanoTime() - subscribedAt > TRUST.toNanos() && !warned) {
                warned = true;
                log.warn("Redis channel {}: this node does not hear its own heartbeat{}; asking Redis at each check"
                        + " instead (does the Redis user have the channel?)", channel,
                        refused.isEmpty() ? "" : " (" + LogText.quote(refused) + ")");
            }
        } catch (RuntimeException e) {
            currentUntil = 0;
            close(c); // made afresh, with a catch-up, after the backoff
            retryAt = System.nanoTime() + backoff.toNanos();
            backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
            if (!warned) {
                warned = true;
                log.warn("Redis channel {}: not listening ({}); asking Redis instead until it is back", channel,
                        e.toString());
            }
        }
    }

    private void heard(int gen, String message) {
        if (!message.startsWith(HEARTBEAT)) {
            try {
                onMessage.accept(message);
            } catch (RuntimeException e) {
                log.warn("Redis channel {}: a notice not understood: {}", channel, e.toString());
            }
            return;
        }
        String rest = message.substring(HEARTBEAT.length());
        if (gen != generation || !caughtUp || !rest.startsWith(self + " ")) {
            return; // another node's, or heard on a connection since replaced
        }
        currentUntil = Long.parseLong(rest.substring(self.length() + 1)) + TRUST.toNanos();
        heardAt = System.nanoTime();
        backoff = TICK;
        if (warned) {
            warned = false;
            log.info("Redis channel {}: listening again", channel);
        }
    }

    private static void close(StatefulRedisPubSubConnection<String, String> c) {
        if (c != null && c.isOpen()) {
            c.closeAsync();
        }
    }

    @Override
    public void close() {
        currentUntil = 0;
        StatefulRedisPubSubConnection<String, String> c = connection;
        if (c != null && c.isOpen()) {
            c.close();
        }
    }
}
