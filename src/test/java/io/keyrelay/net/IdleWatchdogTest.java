package io.keyrelay.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Reads and writes timed by the sweeper instead of SO_TIMEOUT, on real loopback sockets. */
class IdleWatchdogTest {
    private final IdleWatchdog watchdog = new IdleWatchdog("test-watchdog", Duration.ofMillis(300));
    private ServerSocket server;
    private Socket client;
    private Socket accepted;

    @BeforeEach
    void connect() throws Exception {
        server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        client = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
        accepted = new WatchedSocket(server.accept(), watchdog);
    }

    @AfterEach
    void close() throws Exception {
        client.close();
        accepted.close();
        server.close();
        watchdog.close();
    }

    @Test
    void aReadBlockedPastTheTimeout_endsWithSocketTimeoutException_andTheOutputStaysUsable() throws Exception {
        InputStream in = accepted.getInputStream();
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> in.read(new byte[16])).isInstanceOf(SocketTimeoutException.class);
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        assertThat(took).isBetween(Duration.ofMillis(300), Duration.ofMillis(300 + 2000));
        accepted.getOutputStream().write("421 bye\r\n".getBytes()); // as the session sends its 421
        byte[] got = client.getInputStream().readNBytes(9);
        assertThat(new String(got)).isEqualTo("421 bye\r\n");
    }

    @Test
    void readsThatGetDataInTime_neverTimeOut_evenWhenTheConnectionLastsLonger() throws Exception {
        InputStream in = accepted.getInputStream();
        OutputStream peer = client.getOutputStream();
        Thread writer = Thread.ofVirtual().start(() -> {
            try {
                for (int i = 0; i < 8; i++) { // 8 x 100 ms: well past the 300 ms timeout in all
                    Thread.sleep(100);
                    peer.write('x');
                    peer.flush();
                }
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        for (int i = 0; i < 8; i++) {
            assertThat(in.read()).isEqualTo('x');
        }
        writer.join();
        assertThat(watchdog.watched()).isEqualTo(1);
    }

    @Test
    void aWriteStalledPastTheTimeout_closesTheSocket() {
        OutputStream out;
        try {
            out = accepted.getOutputStream();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        byte[] chunk = new byte[64 * 1024];
        // The peer never reads: the socket buffers fill and the write blocks until the watchdog closes it.
        assertThatThrownBy(() -> {
            for (int i = 0; i < 100_000; i++) {
                out.write(chunk);
            }
        }).isInstanceOf(SocketTimeoutException.class);
        assertThat(accepted.isClosed()).isTrue();
    }

    @Test
    void closingTheSocket_endsTheWatch() throws Exception {
        assertThat(watchdog.watched()).isEqualTo(1);
        accepted.close();
        assertThat(watchdog.watched()).isZero();
        Socket other = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
        Socket raw = server.accept();
        watchdog.watch(raw);
        raw.close(); // closed behind the watchdog's back: the sweeper drops it
        await().atMost(Duration.ofSeconds(5)).until(() -> watchdog.watched() == 0);
        other.close();
    }

    @Test
    void aDeadline_endsAReadThatKeepsGettingBytes_andSaysWhichDeadlineItWas() throws Exception {
        try (IdleWatchdog wd = new IdleWatchdog("deadline-watchdog", Duration.ofSeconds(30), Duration.ofMillis(200));
                Socket peer = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
                WatchedSocket watched = new WatchedSocket(server.accept(), wd, 2)) {
            watched.watch().deadline(1, Duration.ofMillis(400).toNanos());
            assertThat(watched.watch().armed(1)).isTrue();
            Thread trickler = Thread.ofVirtual().start(() -> {
                try {
                    for (int i = 0; i < 100 && !watched.watch().expired(); i++) { // 1 byte / 50 ms: each read is quick
                        peer.getOutputStream().write('x');
                        Thread.sleep(50);
                    }
                } catch (Exception e) {
                    // closed
                }
            });
            InputStream in = watched.getInputStream();
            assertThatThrownBy(() -> {
                while (in.read() >= 0) {
                    // reads that each succeed
                }
            }).isInstanceOf(SocketTimeoutException.class);
            assertThat(watched.watch().expiredBy()).isEqualTo(1);
            watched.getOutputStream().write("421 late\r\n".getBytes()); // the output stays usable for the reply
            trickler.join();
        }
    }

    @Test
    void aClearedDeadline_neverFires() throws Exception {
        try (IdleWatchdog wd = new IdleWatchdog("deadline-watchdog", Duration.ofSeconds(30), Duration.ofMillis(100));
                Socket peer = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
                WatchedSocket watched = new WatchedSocket(server.accept(), wd, 1)) {
            watched.watch().deadline(0, Duration.ofMillis(100).toNanos());
            watched.watch().clear(0);
            peer.getOutputStream().write('y');
            Thread.sleep(400); // past the cleared deadline: nothing may happen (a negative check needs the wait)
            assertThat(watched.getInputStream().read()).isEqualTo('y');
            assertThat(watched.watch().expired()).isFalse();
        }
    }
}
