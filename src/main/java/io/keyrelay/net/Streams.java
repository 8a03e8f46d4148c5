package io.keyrelay.net;

import java.io.IOException;
import java.io.InputStream;

/** Small stream helpers shared by keyrelay's filtering streams. */
public final class Streams {
    private Streams() {}

    /**
     * {@link InputStream#read()} for a stream whose bulk read does the real work: reads one byte through
     * {@code in.read(one, 0, 1)} (retrying a zero-length read) and returns it, or -1 at the end of the stream.
     */
    public static int readByte(InputStream in, byte[] one) throws IOException {
        int n;
        do {
            n = in.read(one, 0, 1);
        } while (n == 0);
        return n < 0 ? -1 : one[0] & 0xff;
    }
}
