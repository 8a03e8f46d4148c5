package io.keyrelay.dkim;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;

/**
 * Who a message says it is from: the mailboxes of its {@code From:} and {@code Sender:} fields (RFC 5322 section
 * 3.6.2), or why they cannot be read. Sender policy checks every domain of a {@link Found}; an
 * {@link Unreadable} message is refused with a reply that says the field could not be read.
 */
public sealed interface Authors {

    /**
     * The message's authors.
     *
     * @param from every mailbox of the {@code From:} field (groups expanded), never empty
     * @param sender the {@code Sender:} mailbox, or null when there is no {@code Sender:} field
     */
    record Found(List<Mailbox> from, Mailbox sender) implements Authors {
        public Found {
            from = List.copyOf(from);
            if (from.isEmpty()) {
                throw new IllegalArgumentException("a From: field names at least one mailbox");
            }
        }

        /** The distinct domains of {@code From:} and {@code Sender:}, in order of appearance. */
        public List<String> domains() {
            LinkedHashSet<String> d = new LinkedHashSet<>();
            from.forEach(m -> d.add(m.domain()));
            if (sender != null) {
                d.add(sender.domain());
            }
            return List.copyOf(d);
        }
    }

    /**
     * The message has no {@code From:} that can be read, or its {@code Sender:} cannot be read.
     *
     * @param field {@code "From"} or {@code "Sender"}
     * @param reason what is wrong, for the reply and the log (no message content beyond the field name)
     */
    record Unreadable(String field, String reason) implements Authors {
        public Unreadable {
            Objects.requireNonNull(field);
            Objects.requireNonNull(reason);
        }

        /** Whether it is the {@code From:} field that is missing or unreadable (there is no parseable From). */
        public boolean noParseableFrom() {
            return field.equals("From");
        }
    }
}
