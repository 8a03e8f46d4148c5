package io.keyrelay.queue;

import io.keyrelay.relay.MailParams;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * Puts messages into a real queue store and moves them through real delivery attempts (claim, then settle with
 * the given per-recipient results), for tests of the admin surfaces that need messages in every state without a
 * downstream scripted to produce each one.
 */
public final class QueueFixture {
    private final JdbcQueueStore store;
    private final QueueId ids;

    public QueueFixture(DataSource ds, java.time.Clock clock) {
        this.store = new JdbcQueueStore(ds);
        this.ids = new QueueId(clock);
    }

    /** Queues a message from {@code sender} to {@code rcpts}, as sent with the given key; returns its id. */
    public String queue(String sender, List<String> rcpts, String keyId, String shortKey, Long subaccount,
            Instant at) {
        String id = ids.next();
        byte[] body = ("Received: by keyrelay; id " + id + "\r\nFrom: " + sender + "\r\nSubject: test\r\n\r\nhello\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        Envelope env = new Envelope(sender, new MailParams(0, null, false), null, null,
                rcpts.stream().map(Envelope.Recipient::new).toList());
        try {
            store.insert(id, env, new Origin(keyId, shortKey, subaccount, "127.0.0.9", "test-node"), at,
                    new ByteArrayInputStream(body));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return id;
    }

    /**
     * Runs one delivery attempt on the only due message, which must be {@code id}: each pending recipient gets the
     * next of {@code kinds} with {@code reply}; deferred ones are due again in an hour.
     */
    public void attempt(String id, Instant now, String reply, Outcome.Kind... kinds) {
        Claim claim = store.claim("fixture", now, Duration.ofMinutes(5)).orElseThrow();
        if (!claim.id().equals(id)) {
            throw new IllegalStateException("claimed " + claim.id() + ", not " + id);
        }
        List<Outcome.Result> results = new ArrayList<>();
        for (int i = 0; i < claim.recipients().size(); i++) {
            Claim.Pending p = claim.recipients().get(i);
            results.add(new Outcome.Result(p.seq(), p.recipient().address(), kinds[i], reply));
        }
        if (!store.settle(claim, "fixture", new Outcome(results, now, now, now.plus(Duration.ofHours(1)),
                reply), List.of(), false)) {
            throw new IllegalStateException("lost the claim on " + id);
        }
    }
}
