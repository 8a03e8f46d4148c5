package io.keyrelay.store;

import java.sql.SQLException;

/**
 * The key store could not be read or written. Carries the SQLState so callers and logs can tell a lost
 * connection (class 08) from a constraint violation (class 23).
 */
public final class StoreException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final String sqlState;

    public StoreException(String operation, SQLException cause) {
        super(operation + " failed: " + describe(cause), cause);
        this.sqlState = cause.getSQLState();
    }

    public StoreException(String message, Throwable cause) {
        super(message, cause);
        this.sqlState = null;
    }

    public String sqlState() {
        return sqlState;
    }

    /**
     * True when the database refused a value (SQLState class 22, "data exception": too long for its column, out of
     * range, not valid text): the request was bad, the store is fine. Validation should have caught it first.
     */
    public boolean isInvalidData() {
        return sqlState != null && sqlState.startsWith("22");
    }

    /** True for a unique-key violation (SQLState 23505 on PostgreSQL and H2). */
    public boolean isDuplicate() {
        return "23505".equals(sqlState);
    }

    private static String describe(SQLException e) {
        String state = e.getSQLState() == null ? "" : " (SQLState " + e.getSQLState() + ")";
        String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().lines().findFirst().orElse("");
        return msg + state;
    }
}
