-- Grains' own small state (Orleans IPersistentState), one row per state name and grain: the payload
-- as the Orleans serializer writes it, and a version that every write moves on (the ETag).
CREATE TABLE grain_state (
    state_name TEXT    NOT NULL,
    grain_id   TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    payload    BLOB,
    PRIMARY KEY (state_name, grain_id)
) WITHOUT ROWID;
