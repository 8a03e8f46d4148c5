package io.keyrelay.keys;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A key store in memory for unit tests of the parts that write to it in the background: it records every batch of
 * audit events and usages it is given, can be made to fail, and can be held (a write waits until released) to
 * stand for a slow or stuck database.
 */
final class FakeKeyStore implements KeyStore {
    final List<List<AuditEvent>> auditBatches = new CopyOnWriteArrayList<>();
    final List<List<Usage>> usageBatches = new CopyOnWriteArrayList<>();
    final AtomicBoolean failing = new AtomicBoolean();
    final AtomicInteger writeAttempts = new AtomicInteger();
    private volatile CountDownLatch hold = new CountDownLatch(0);
    final CountDownLatch firstWriteStarted = new CountDownLatch(1);

    /** Makes every write wait until {@link #release()}. */
    void hold() {
        hold = new CountDownLatch(1);
    }

    void release() {
        hold.countDown();
    }

    List<AuditEvent> auditEvents() {
        List<AuditEvent> all = new ArrayList<>();
        auditBatches.forEach(all::addAll);
        return all;
    }

    private void write() {
        writeAttempts.incrementAndGet();
        firstWriteStarted.countDown();
        try {
            hold.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (failing.get()) {
            throw new io.keyrelay.store.StoreException("fake store down", new java.sql.SQLException("down", "08001"));
        }
    }

    @Override
    public void appendAudit(Collection<AuditEvent> events) {
        write();
        auditBatches.add(List.copyOf(events));
    }

    @Override
    public void recordUsage(Collection<Usage> usages) {
        write();
        usageBatches.add(List.copyOf(usages));
    }

    @Override
    public long insert(ApiKey key, AuditEvent event) {
        throw new UnsupportedOperationException();
    }

    @Override
    public long update(ApiKey key, AuditEvent event) {
        throw new UnsupportedOperationException();
    }

    @Override
    public Optional<ApiKey> findById(String id) {
        return Optional.empty();
    }

    @Override
    public Optional<ApiKey> findByHash(String keyHash) {
        return Optional.empty();
    }

    @Override
    public List<ApiKey> list(Long subaccountId, boolean primaryOnly) {
        return List.of();
    }

    @Override
    public List<AuditEvent> audit(String keyId, String action, Instant since, int limit) {
        return auditEvents();
    }

    @Override
    public Changes changesSince(Instant since) {
        return new Changes(List.of(), since);
    }

    @Override
    public int pruneChanges(Instant before) {
        return 0;
    }

    @Override
    public boolean ping() {
        return !failing.get();
    }
}
