package io.keyrelay.queue;

import io.keyrelay.config.RelayConfig;
import io.keyrelay.config.Durations;
import io.keyrelay.relay.Downstream;
import io.keyrelay.relay.DownstreamException;
import io.keyrelay.relay.RcptParams;
import io.keyrelay.relay.Reply;
import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * One delivery attempt of a claimed message: one downstream transaction with every pending recipient, the body
 * streamed from the store, and each recipient's result from the downstream's replies — 2xx delivered, 5xx failed,
 * 4xx deferred. A failure to reach or keep the downstream (connection, TLS, timeout) defers every recipient not yet
 * settled, as does a body that cannot be read. A deferred recipient past {@code queue.max_age} fails instead.
 */
final class Delivery {
    private static final byte[] NO_PREFIX = new byte[0];

    private final Downstream downstream;
    private final JdbcQueueStore store;
    private final RelayConfig.Queue config;
    private final Clock clock;

    Delivery(Downstream downstream, JdbcQueueStore store, RelayConfig.Queue config, Clock clock) {
        this.downstream = downstream;
        this.store = store;
        this.config = config;
        this.clock = clock;
    }

    /** The message's bytes for one attempt: a prefix sent first, then a stream opened for this attempt. */
    interface Body {
        byte[] prefix();

        java.io.InputStream open() throws IOException;
    }

    /** An attempt with the body read back from the store, chunk by chunk. */
    Outcome attempt(Claim claim) {
        return attempt(claim, new Body() {
            @Override
            public byte[] prefix() {
                return NO_PREFIX;
            }

            @Override
            public java.io.InputStream open() {
                return store.body(claim.id(), claim.size());
            }
        });
    }

    Outcome attempt(Claim claim, Body body) {
        Instant started = clock.instant();
        List<Outcome.Result> results = new ArrayList<>();
        List<Claim.Pending> accepted = new ArrayList<>();
        String summary;
        Downstream.Transaction tx = null;
        try {
            tx = downstream.begin(claim.envelope().sender(), claim.envelope().params());
            for (Claim.Pending p : claim.recipients()) {
                Reply r = tx.recipient(p.recipient().address(),
                        new RcptParams(p.recipient().dsnNotify(), p.recipient().dsnOrcpt()));
                if (r.isPositive()) {
                    accepted.add(p);
                } else {
                    results.add(byReply(p, r));
                }
            }
            if (accepted.isEmpty()) {
                tx.abort();
                summary = "every recipient refused";
            } else {
                Reply r;
                try (java.io.InputStream in = body.open()) {
                    r = tx.data(body.prefix(), in);
                }
                for (Claim.Pending p : accepted) {
                    results.add(byReply(p, r));
                }
                summary = r.line();
            }
        } catch (Downstream.Rejected e) {
            for (Claim.Pending p : claim.recipients()) {
                results.add(byReply(p, e.reply()));
            }
            summary = "sender refused: " + e.reply().line();
        } catch (DownstreamException e) {
            summary = "downstream " + e.kind() + " error: " + e.getMessage();
            deferRest(claim, results, summary);
        } catch (IOException e) {
            if (tx != null) {
                tx.abort();
            }
            summary = "cannot read the stored message: " + e.getMessage();
            deferRest(claim, results, summary);
        } finally {
            if (tx != null) {
                tx.close();
            }
        }
        Instant now = clock.instant();
        Instant expiry = claim.createdAt().plus(config.maxAge());
        boolean expired = !now.isBefore(expiry);
        List<Outcome.Result> settled = new ArrayList<>(results.size());
        for (Outcome.Result r : results) {
            settled.add(r.kind() == Outcome.Kind.DEFERRED && expired
                    ? new Outcome.Result(r.seq(), r.address(), Outcome.Kind.FAILED, "4.4.7 Delivery time expired: in the"
                            + " queue longer than queue.max_age (" + Durations.format(config.maxAge()) + "); last: "
                            + r.reply())
                    : r);
        }
        Instant next = now.plus(config.retryAfter(claim.attempt()));
        if (next.isAfter(expiry)) {
            next = expiry; // one last attempt when the message reaches queue.max_age
        }
        return new Outcome(settled, started, now, next, summary);
    }

    /** Every recipient without a result yet is deferred with {@code why}. */
    private static void deferRest(Claim claim, List<Outcome.Result> results, String why) {
        for (Claim.Pending p : claim.recipients()) {
            if (results.stream().noneMatch(r -> r.seq() == p.seq())) {
                results.add(new Outcome.Result(p.seq(), p.recipient().address(), Outcome.Kind.DEFERRED, why));
            }
        }
    }

    private static Outcome.Result byReply(Claim.Pending p, Reply r) {
        Outcome.Kind k = r.isPositive() ? Outcome.Kind.DELIVERED
                : r.isPermanent() ? Outcome.Kind.FAILED : Outcome.Kind.DEFERRED;
        return new Outcome.Result(p.seq(), p.recipient().address(), k, r.line());
    }
}
