package io.keyrelay.queue;

import io.keyrelay.store.StoreException;
import java.io.IOException;
import java.io.InputStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import javax.sql.DataSource;

/**
 * A stored message body, read one chunk at a time: one short query per chunk, on a connection borrowed for that
 * query only, so a slow downstream holds no database connection. A body that ends before its recorded size (the
 * message was deleted while it was being sent) is an {@link IOException}, never a silently shortened message.
 */
final class ChunkedBody extends InputStream {
    private final DataSource ds;
    private final String id;
    private final long size;
    private long read;
    private int seq;
    private byte[] chunk = new byte[0];
    private int pos;

    ChunkedBody(DataSource ds, String id, long size) {
        this.ds = ds;
        this.id = id;
        this.size = size;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        while (pos == chunk.length) {
            if (read >= size) {
                return -1;
            }
            chunk = next();
            pos = 0;
        }
        int n = Math.min(len, chunk.length - pos);
        System.arraycopy(chunk, pos, b, off, n);
        pos += n;
        read += n;
        return n;
    }

    private byte[] next() throws IOException {
        try (Connection c = ds.getConnection();
                PreparedStatement ps = c.prepareStatement(
                        "SELECT chunk FROM queue_bodies WHERE message_id = ? AND seq = ?")) {
            ps.setString(1, id);
            ps.setInt(2, seq++);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new IOException("message " + id + " lost its body after " + read + " of " + size
                            + " bytes (deleted while being sent?)");
                }
                return rs.getBytes(1);
            }
        } catch (SQLException e) {
            throw new IOException(new StoreException("reading the body of " + id, e).getMessage(), e);
        }
    }
}
