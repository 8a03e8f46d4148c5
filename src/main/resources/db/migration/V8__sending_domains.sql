-- keyrelay schema, version 8: sending domains and their DKIM keys. Portable SQL (PostgreSQL and H2).

-- One row per domain, in its one normal form: lower-case ASCII, IDN labels as A-labels (xn--…), no trailing dot.
CREATE TABLE sending_domains (
    domain                   VARCHAR(253) NOT NULL PRIMARY KEY,
    -- NULL: the primary account's
    subaccount_id            BIGINT,
    shared_with_subaccounts  BOOLEAN      NOT NULL,
    ownership_verified       BOOLEAN      NOT NULL,
    created_at               TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at               TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX sending_domains_subaccount ON sending_domains (subaccount_id);

-- Each domain's DKIM keys: one active per algorithm, and a pending one during a rotation.
CREATE TABLE dkim_keys (
    domain           VARCHAR(253)  NOT NULL REFERENCES sending_domains (domain) ON DELETE CASCADE,
    selector         VARCHAR(63)   NOT NULL,
    -- rsa | ed25519
    algorithm        VARCHAR(16)   NOT NULL,
    bits             INTEGER       NOT NULL,
    -- base64, as published in the record's p=
    public_key       VARCHAR(1000) NOT NULL,
    -- PKCS#8, AES-256-GCM-sealed under dkim.master_key ('v1:' + base64); never stored in clear
    private_key      VARCHAR(4000) NOT NULL,
    -- active | pending
    state            VARCHAR(16)   NOT NULL,
    -- unverified | valid | invalid
    dkim_status      VARCHAR(16)   NOT NULL,
    last_checked_at  TIMESTAMP WITH TIME ZONE,
    created_at       TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (domain, selector)
);
