package io.keyrelay.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The failures of one run, counted by the step they happened at ({@code connect}, {@code AUTH}, {@code MAIL FROM},
 * …), with the first few distinct replies or exception messages kept as examples. Thread-safe.
 */
final class BenchErrors {
    static final int EXAMPLES = 10;

    private final ConcurrentHashMap<String, LongAdder> byStep = new ConcurrentHashMap<>();
    private final List<String> examples = new ArrayList<>(EXAMPLES);

    void record(String step, String detail) {
        byStep.computeIfAbsent(step, s -> new LongAdder()).increment();
        String example = step + ": " + detail;
        synchronized (examples) {
            if (examples.size() < EXAMPLES && !examples.contains(example)) {
                examples.add(example);
            }
        }
    }

    long total() {
        long t = 0;
        for (LongAdder a : byStep.values()) {
            t += a.sum();
        }
        return t;
    }

    /** Counts by step, sorted by step name. */
    Map<String, Long> byStep() {
        Map<String, Long> m = new TreeMap<>();
        byStep.forEach((k, v) -> m.put(k, v.sum()));
        return m;
    }

    /** The first distinct failures, in the order they happened. */
    List<String> examples() {
        synchronized (examples) {
            return List.copyOf(examples);
        }
    }
}
