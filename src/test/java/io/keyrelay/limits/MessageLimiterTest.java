package io.keyrelay.limits;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyrelay.config.RelayConfig;
import io.keyrelay.keys.KeyLimits;
import io.keyrelay.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Per-key message rates and quotas, with a clock the test moves: no sockets, no sleeping. */
class MessageLimiterTest {
    private static final Instant NOON = Instant.parse("2030-05-01T12:00:00Z");

    private final MutableClock clock = new MutableClock(NOON);
    private final MessageLimiter limiter = new MessageLimiter(new RelayConfig.Limits(0, 0), null, clock, 1000);

    private static SendingLimits rates(long perMinute, long perDay) {
        return new SendingLimits(perMinute, perDay, 100, 1 << 20);
    }

    private int admitted(String key, SendingLimits limits, int attempts) {
        int n = 0;
        for (int i = 0; i < attempts; i++) {
            if (limiter.admit(key, limits) instanceof Reservation) {
                n++;
            }
        }
        return n;
    }

    @Test
    void perMinute_allowsABurstOfN_thenOneEverySixtyOverNSeconds() {
        SendingLimits threePerMinute = rates(3, 0);
        assertThat(admitted("k", threePerMinute, 10)).isEqualTo(3);
        assertThat(limiter.admit("k", threePerMinute)).isEqualTo(
                new Admission.Refusal(KeyLimits.Limit.MESSAGES_PER_MINUTE, 3));
        clock.advance(Duration.ofSeconds(19));
        assertThat(admitted("k", threePerMinute, 1)).as("not yet: one comes back every 20 s").isZero();
        clock.advance(Duration.ofSeconds(1));
        assertThat(admitted("k", threePerMinute, 5)).isEqualTo(1);
        clock.advance(Duration.ofMinutes(5));
        assertThat(admitted("k", threePerMinute, 10)).as("an idle key gets its whole burst back, no more").isEqualTo(3);
    }

    @Test
    void perDay_countsPerUtcDay_andStartsAgainAtMidnightUtc() {
        SendingLimits twoPerDay = rates(0, 2);
        assertThat(admitted("k", twoPerDay, 5)).isEqualTo(2);
        assertThat(limiter.admit("k", twoPerDay)).isEqualTo(new Admission.Refusal(KeyLimits.Limit.MESSAGES_PER_DAY, 2));
        clock.advance(Duration.ofHours(11).plusMinutes(59)); // 23:59 UTC, same day
        assertThat(admitted("k", twoPerDay, 1)).isZero();
        clock.advance(Duration.ofMinutes(1)); // 00:00 UTC
        assertThat(admitted("k", twoPerDay, 5)).isEqualTo(2);
        assertThat(limiter.countedToday("k")).isEqualTo(2);
    }

    @Test
    void keysAreCountedSeparately() {
        assertThat(admitted("a", rates(0, 1), 3)).isEqualTo(1);
        assertThat(admitted("b", rates(0, 1), 3)).isEqualTo(1);
    }

    @Test
    void release_givesTheCountBack_once() {
        SendingLimits onePerDayAndMinute = rates(1, 1);
        Reservation r = (Reservation) limiter.admit("k", onePerDayAndMinute);
        assertThat(limiter.admit("k", onePerDayAndMinute)).isInstanceOf(Admission.Refusal.class);
        r.release();
        r.release(); // harmless
        assertThat(limiter.countedToday("k")).isZero();
        Reservation again = (Reservation) limiter.admit("k", onePerDayAndMinute);
        assertThat(again).isNotNull();
        assertThat(limiter.admit("k", onePerDayAndMinute)).as("released twice must not give back twice")
                .isInstanceOf(Admission.Refusal.class);
    }

    @Test
    void release_afterMidnight_doesNotUncountTheNewDay() {
        SendingLimits twoPerDay = rates(0, 2);
        Reservation yesterday = (Reservation) limiter.admit("k", twoPerDay);
        clock.advance(Duration.ofHours(12)); // next UTC day
        assertThat(admitted("k", twoPerDay, 1)).isEqualTo(1);
        yesterday.release();
        assertThat(limiter.countedToday("k")).isEqualTo(1);
    }

    @Test
    void refusedByTheMinuteRate_doesNotUseTheDailyQuota() {
        SendingLimits limits = rates(1, 5);
        assertThat(admitted("k", limits, 4)).isEqualTo(1);
        assertThat(limiter.countedToday("k")).isEqualTo(1);
    }

    @Test
    void aDayQuotaReached_isReportedBeforeTheMinuteRate() {
        SendingLimits limits = rates(1, 1);
        admitted("k", limits, 1);
        assertThat(limiter.admit("k", limits)).isEqualTo(new Admission.Refusal(KeyLimits.Limit.MESSAGES_PER_DAY, 1));
    }

    @Test
    void aChangedLimit_appliesToTheNextMessage() {
        assertThat(admitted("k", rates(0, 10), 3)).isEqualTo(3);
        assertThat(admitted("k", rates(0, 4), 3)).as("3 already counted today").isEqualTo(1);
        assertThat(admitted("k", rates(0, 0), 50)).as("unlimited").isEqualTo(50);
    }

    @Test
    void unmeteredKeys_areNotCountedAtAll() {
        assertThat(limiter.admit("k", rates(0, 0))).isSameAs(Reservation.UNMETERED);
        assertThat(limiter.countedToday("k")).isZero();
    }

    @Test
    void manyThreadsOnOneKey_neverExceedTheQuota_andReleasesAreExact() throws Exception {
        int threads = 16;
        int attemptsEach = 2_000;
        SendingLimits limits = rates(0, 5_000);
        AtomicInteger admitted = new AtomicInteger();
        AtomicInteger released = new AtomicInteger();
        CountDownLatch go = new CountDownLatch(1);
        List<Future<?>> done = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            for (int t = 0; t < threads; t++) {
                int seed = t;
                done.add(pool.submit(() -> {
                    go.await();
                    for (int i = 0; i < attemptsEach; i++) {
                        if (limiter.admit("shared", limits) instanceof Reservation r) {
                            admitted.incrementAndGet();
                            if ((i + seed) % 7 == 0) { // some transactions fail and give their count back
                                r.release();
                                released.incrementAndGet();
                            }
                        }
                    }
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : done) {
                f.get();
            }
        }
        assertThat(admitted.get() - released.get()).isEqualTo(5_000);
        assertThat(limiter.countedToday("shared")).isEqualTo(5_000);
    }

    @Test
    void manyThreadsOnOneKey_perMinute_admitExactlyTheBurst() throws Exception {
        SendingLimits limits = rates(1_000, 0);
        AtomicInteger admitted = new AtomicInteger();
        try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
            for (int t = 0; t < 8; t++) {
                pool.submit(() -> {
                    for (int i = 0; i < 1_000; i++) {
                        if (limiter.admit("burst", limits) instanceof Reservation) {
                            admitted.incrementAndGet();
                        }
                    }
                });
            }
        }
        assertThat(admitted.get()).isEqualTo(1_000);
    }
}
