package io.keyrelay.dkim;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The per-message DKIM and policy costs that do not depend on a key, one thread: the relaxed body hash of 1 MiB
 * (operations per second are MiB per second) and reading {@code From:}/{@code Sender:} from a typical header block.
 *
 * <p>Run: {@code mvn -Pjmh test-compile exec:exec -Djmh.args=MessageScan}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@Threads(1)
public class MessageScanBenchmark {
    private byte[] headers;
    private byte[] mib;

    @Setup(Level.Trial)
    public void setUp() {
        headers = DkimSignBenchmark.HEADERS.getBytes(StandardCharsets.US_ASCII);
        StringBuilder b = new StringBuilder(1 << 20);
        while (b.length() < (1 << 20) - 100) {
            b.append("Lorem ipsum dolor sit amet, consectetur  adipiscing elit, sed do eiusmod tempor  \r\n");
        }
        mib = b.toString().getBytes(StandardCharsets.US_ASCII);
    }

    /** Headers and a 1 MiB body through a {@link MessageScan}: header block kept, body canonicalised and hashed. */
    @Benchmark
    public byte[] bodyHashMiB() throws IOException {
        MessageScan s = new MessageScan();
        s.write(headers);
        s.write(mib);
        s.finish();
        return s.bodyHash();
    }

    /** The header block read and its From:/Sender: mailboxes parsed (Angus Mail's parser, IDN normal form). */
    @Benchmark
    public Authors headerParse() throws IOException {
        return HeaderAddresses.read(HeaderBlock.read(new ByteArrayInputStream(headers), 1 << 20), false);
    }
}
