package io.keyrelay.cluster;

import io.lettuce.core.RedisClient;
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
 * catch-up read of what was published before) if it is missing or closed, else sent a {@code PING}. Redis answers a
 * subscriber's PING after every message it had queued to it, so an answered PING proves that everything published
 * before Redis read it has arrived. The channel is current for {@link #TRUST} after the PING that was answered last
 * was sent; a connection cut, silent, or slow, or Redis down, makes it not current within that time at most.
 */
public final class RedisChannel implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RedisChannel.class);
    static final Duration TICK = Duration.ofMillis(500);
    /** How long an answered PING vouches for the channel: two ticks and a margin for a slow answer. */
    public static final Duration TRUST = Duration.ofMillis(1500);

    private final Redis redis;
    private final RedisClient client;
    private final String channel;
    private final Consumer<String> onMessage;
    private final Predicate<RedisCommands<String, String>> catchUp;
    private volatile StatefulRedisPubSubConnection<String, String> connection;
    /** System.nanoTime() until which the channel is current; 0: not current. */
    private volatile long currentUntil;
    private volatile boolean warned;

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

    /** One check: (re)subscribe and catch up, or PING; run every {@link #TICK} by {@link Redis}'s probe thread. */
    void tick() {
        if (!redis.up()) {
            currentUntil = 0;
            return;
        }
        StatefulRedisPubSubConnection<String, String> c = connection;
        long sent = System.nanoTime();
        try {
            if (c == null || !c.isOpen()) {
                currentUntil = 0;
                if (c != null) {
                    c.closeAsync();
                }
                c = client.connectPubSub();
                connection = c;
                c.addListener(new RedisPubSubAdapter<>() {
                    @Override
                    public void message(String ch, String message) {
                        if (channel.equals(ch)) {
                            try {
                                onMessage.accept(message);
                            } catch (RuntimeException e) {
                                log.warn("Redis channel {}: a notice not understood: {}", channel, e.toString());
                            }
                        }
                    }
                });
                c.sync().subscribe(channel);
                // Subscribed first, then the read: what is published in between is heard, or read, or both.
                Boolean read = redis.call("catch up on " + channel, catchUp::test);
                if (read == null || !read) {
                    c.closeAsync(); // not current: the next tick subscribes and reads again
                    return;
                }
            } else {
                c.sync().ping();
            }
            currentUntil = sent + TRUST.toNanos();
            if (warned) {
                warned = false;
                log.info("Redis channel {}: listening again", channel);
            }
        } catch (RuntimeException e) {
            currentUntil = 0;
            if (c != null) {
                c.closeAsync(); // made afresh, with a catch-up, on the next tick
            }
            if (!warned) {
                warned = true;
                log.warn("Redis channel {}: not listening ({}); asking Redis instead until it is back", channel,
                        e.toString());
            }
        }
    }

    @Override
    public void close() {
        currentUntil = 0;
        StatefulRedisPubSubConnection<String, String> c = connection;
        if (c != null) {
            c.close();
        }
    }
}
