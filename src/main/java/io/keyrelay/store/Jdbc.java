package io.keyrelay.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;

/**
 * The few JDBC conversions the stores share, written once so that PostgreSQL and H2 read and write them alike:
 * instants as {@code TIMESTAMP WITH TIME ZONE} in UTC, and nullable numbers.
 */
public final class Jdbc {
    private Jdbc() {}

    /** A column's instant, or null. */
    public static Instant instant(ResultSet rs, int col) throws SQLException {
        OffsetDateTime t = rs.getObject(col, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }

    /** Binds an instant (null: SQL NULL) as a UTC {@code TIMESTAMP WITH TIME ZONE}. */
    public static void setInstant(PreparedStatement ps, int col, Instant v) throws SQLException {
        if (v == null) {
            ps.setNull(col, Types.TIMESTAMP_WITH_TIMEZONE);
        } else {
            ps.setObject(col, v.atOffset(ZoneOffset.UTC));
        }
    }

    /** Binds a nullable long. */
    public static void setLong(PreparedStatement ps, int col, Long v) throws SQLException {
        if (v == null) {
            ps.setNull(col, Types.BIGINT);
        } else {
            ps.setLong(col, v);
        }
    }

    /** Binds a statement's parameters. */
    @FunctionalInterface
    public interface Binder {
        void bind(PreparedStatement ps) throws SQLException;
    }

    /** Work on one connection. */
    @FunctionalInterface
    public interface SqlWork<T> {
        T run(Connection c) throws SQLException;
    }
}
