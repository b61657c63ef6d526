-- Operations and the settings the servers on one database share.
--
-- Applied once, in one transaction, by `SqliteStore::open`. Never edit this
-- file after a release: sqlx checks its checksum on every open. Add
-- 0002_*.sql next to it (and to `schema.rs`) instead.
--
-- Times are integer microseconds since the Unix epoch (negative before it),
-- durations integer microseconds. STRICT makes SQLite reject a value of the
-- wrong type instead of silently storing it.

CREATE TABLE operations (
    name                TEXT    NOT NULL PRIMARY KEY,
    -- Copies of the name's segments, for List.
    project             TEXT    NOT NULL,
    location            TEXT    NOT NULL,
    create_time         INTEGER NOT NULL,
    update_time         INTEGER NOT NULL,
    end_time            INTEGER,
    done                INTEGER NOT NULL CHECK (done IN (0, 1)),
    metadata_type       TEXT,
    metadata_value      BLOB,
    -- A done operation has a response (type + value) or an error
    -- (code + message + details as JSON), never both.
    response_type       TEXT,
    response_value      BLOB,
    error_code          INTEGER,
    error_message       TEXT,
    error_details       TEXT,
    -- Both set once a cancel was requested.
    cancel_requested_at INTEGER,
    cancel_deadline     INTEGER,
    cancel_grace        INTEGER NOT NULL,
    started             INTEGER NOT NULL CHECK (started IN (0, 1)),
    request_id          TEXT,
    expire_time         INTEGER,
    version             INTEGER NOT NULL
) STRICT;

-- A create retried with the same request_id under the same parent finds the
-- first operation instead of making a second one.
CREATE UNIQUE INDEX operations_request_id
    ON operations (project, location, request_id)
    WHERE request_id IS NOT NULL;

-- List, newest first then by name, for one location and across locations.
CREATE INDEX operations_list_location
    ON operations (project, location, create_time DESC, name);
CREATE INDEX operations_list_project
    ON operations (project, create_time DESC, name);

-- The cancel-grace timer only ever looks at running operations with a
-- pending deadline: a handful among millions of rows.
CREATE INDEX operations_pending_cancel
    ON operations (cancel_deadline)
    WHERE done = 0 AND cancel_deadline IS NOT NULL;

-- Retention purge.
CREATE INDEX operations_expire_time
    ON operations (expire_time)
    WHERE expire_time IS NOT NULL;

CREATE TABLE settings (
    key   TEXT NOT NULL PRIMARY KEY,
    value BLOB NOT NULL
) STRICT;
