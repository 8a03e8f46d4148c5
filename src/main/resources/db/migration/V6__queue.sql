-- keyrelay schema, version 6: the durable queue (relay.mode = queue). Portable SQL: runs unchanged on PostgreSQL
-- and on H2 (BYTEA is an alias of BINARY VARYING there). docs/queue.md describes the states.

-- One row per accepted message: its envelope, who sent it, and where its delivery stands.
-- state: queued (never tried) | active (claimed by lease_owner until lease_until) | deferred | held | failed.
-- next_attempt is when a worker may next claim it; for an active message it is the end of the lease, so one index
-- range finds both the due messages and the claims of a node that died.
CREATE TABLE queue_messages (
    id              VARCHAR(36)   NOT NULL PRIMARY KEY,  -- UUIDv7: unique across nodes, sorts by time
    state           VARCHAR(16)   NOT NULL,
    sender          VARCHAR(1000) NOT NULL,              -- '' for the null reverse-path <>
    declared_size   BIGINT        NOT NULL,              -- MAIL FROM SIZE=, 0 when absent
    body_type       VARCHAR(16),                         -- MAIL FROM BODY=: 7BIT | 8BITMIME
    smtputf8        BOOLEAN       NOT NULL,
    dsn_ret         VARCHAR(8),                          -- MAIL FROM RET=: FULL | HDRS (RFC 3461)
    dsn_envid       VARCHAR(200),                        -- MAIL FROM ENVID=, as xtext
    key_id          VARCHAR(36),
    short_key       VARCHAR(4),
    subaccount_id   BIGINT,
    client_address  VARCHAR(64)   NOT NULL,
    node            VARCHAR(255)  NOT NULL,              -- the node that accepted it
    size            BIGINT        NOT NULL,              -- stored bytes, keyrelay's Received header included
    attempts        INTEGER       NOT NULL,
    next_attempt    TIMESTAMP WITH TIME ZONE NOT NULL,
    lease_owner     VARCHAR(255),
    lease_until     TIMESTAMP WITH TIME ZONE,
    last_reply      VARCHAR(1000),
    created_at      TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at      TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX queue_messages_due ON queue_messages (state, next_attempt);
CREATE INDEX queue_messages_key ON queue_messages (key_id, id);
CREATE INDEX queue_messages_subaccount ON queue_messages (subaccount_id, id);

-- One row per recipient: pending until delivered (2xx) or failed (5xx, or deferred past queue.max_age).
CREATE TABLE queue_recipients (
    message_id      VARCHAR(36)   NOT NULL REFERENCES queue_messages (id) ON DELETE CASCADE,
    seq             INTEGER       NOT NULL,
    address         VARCHAR(1000) NOT NULL,
    state           VARCHAR(16)   NOT NULL,
    dsn_notify      VARCHAR(40),                         -- RCPT TO NOTIFY=: NEVER | SUCCESS,FAILURE,DELAY
    dsn_orcpt       VARCHAR(1000),                       -- RCPT TO ORCPT=, as given (addr-type;xtext)
    last_reply      VARCHAR(1000),
    updated_at      TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (message_id, seq)
);

-- The message's bytes (keyrelay's Received header, then the client's message, dot-unstuffed), in chunks of at most
-- 256 KiB: pgjdbc reads a bytea value whole into memory, so one row per message would hold a 50 MB message in the
-- heap; chunks keep memory bounded on the way in and out, on both stores, with nothing dialect-specific.
CREATE TABLE queue_bodies (
    message_id      VARCHAR(36)   NOT NULL REFERENCES queue_messages (id) ON DELETE CASCADE,
    seq             INTEGER       NOT NULL,
    chunk           BYTEA         NOT NULL,
    PRIMARY KEY (message_id, seq)
);

-- One row per delivery attempt, for `queue show` and the API: when, by which node, and what came of it.
CREATE TABLE queue_attempts (
    message_id      VARCHAR(36)   NOT NULL REFERENCES queue_messages (id) ON DELETE CASCADE,
    attempt         INTEGER       NOT NULL,
    node            VARCHAR(255)  NOT NULL,
    started_at      TIMESTAMP WITH TIME ZONE NOT NULL,
    finished_at     TIMESTAMP WITH TIME ZONE NOT NULL,
    delivered       INTEGER       NOT NULL,
    failed          INTEGER       NOT NULL,
    deferred        INTEGER       NOT NULL,
    summary         VARCHAR(1000) NOT NULL,
    PRIMARY KEY (message_id, attempt)
);
