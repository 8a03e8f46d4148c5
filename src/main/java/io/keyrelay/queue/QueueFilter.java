package io.keyrelay.queue;

/**
 * What {@link QueueService#list} returns: messages in the given state, of the given key and subaccount, whose
 * sender or one of whose recipients contains {@code text} (case-insensitively; each null for any), oldest first, at most {@code limit}, starting after the id {@code after} (null: from the oldest) — so a
 * caller pages through a large queue by passing the last id it got.
 */
public record QueueFilter(MessageState state, String keyId, Long subaccountId, String text, int limit,
        String after) {
    public static final int MAX_LIMIT = 1000;

    /** Without a text search. */
    public QueueFilter(MessageState state, String keyId, Long subaccountId, int limit, String after) {
        this(state, keyId, subaccountId, null, limit, after);
    }

    public QueueFilter {
        if (text != null && text.isBlank()) {
            text = null;
        }
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new IllegalArgumentException("limit must be 1 to " + MAX_LIMIT + ", not " + limit);
        }
    }

    /** Every message, the first {@code limit}. */
    public static QueueFilter all(int limit) {
        return new QueueFilter(null, null, null, null, limit, null);
    }
}
