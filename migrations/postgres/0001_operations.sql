-- Operations and the settings the replicas on one database share.
--
-- Applied once, in one transaction, by `longrun migrate` or by `longrun
-- serve` at start (unless --migrate=false). Never edit this file after a
-- release: sqlx checks its checksum. Add 0002_*.sql next to it (and to
-- `store/postgres/schema.rs`) instead.
--
-- The same columns as the SQLite schema, so both backends share one row
-- codec: times are BIGINT microseconds since the Unix epoch (negative before
-- it), durations BIGINT microseconds. Only portable DDL is used (no enums,
-- no extensions), so CockroachDB and YugabyteDB accept it too.

CREATE TABLE operations (
    -- Bytewise order ("C"), as List promises and SQLite does, whatever the
    -- database's default collation.
    name                TEXT    COLLATE "C" NOT NULL PRIMARY KEY,
    -- Copies of the name's segments, for List.
    project             TEXT    NOT NULL,
    location            TEXT    NOT NULL,
    create_time         BIGINT  NOT NULL,
    update_time         BIGINT  NOT NULL,
    end_time            BIGINT,
    done                BOOLEAN NOT NULL,
    metadata_type       TEXT,
    metadata_value      BYTEA,
    -- A done operation has a response (type + value) or an error
    -- (code + message + details as JSON), never both.
    response_type       TEXT,
    response_value      BYTEA,
    error_code          BIGINT,
    error_message       TEXT,
    error_details       TEXT,
    -- Both set once a cancel was requested.
    cancel_requested_at BIGINT,
    cancel_deadline     BIGINT,
    cancel_grace        BIGINT  NOT NULL,
    started             BOOLEAN NOT NULL,
    request_id          TEXT,
    expire_time         BIGINT,
    version             BIGINT  NOT NULL
);

-- A create retried with the same request_id under the same parent finds the
-- first operation instead of making a second one, whichever replica the
-- retry reaches: the index, not a read before the write, decides.
CREATE UNIQUE INDEX operations_request_id
    ON operations (project, location, request_id)
    WHERE request_id IS NOT NULL;

-- List, newest first then by name, for one location and across locations.
CREATE INDEX operations_list_location
    ON operations (project, location, create_time DESC, name);
CREATE INDEX operations_list_project
    ON operations (project, create_time DESC, name);

-- The cancel-grace timers only ever look at running operations with a
-- pending deadline: a handful among millions of rows.
CREATE INDEX operations_pending_cancel
    ON operations (cancel_deadline)
    WHERE NOT done AND cancel_deadline IS NOT NULL;

-- Retention purge.
CREATE INDEX operations_expire_time
    ON operations (expire_time)
    WHERE expire_time IS NOT NULL;

CREATE TABLE settings (
    key   TEXT  NOT NULL PRIMARY KEY,
    value BYTEA NOT NULL
);
