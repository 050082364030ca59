-- Durable reminders for standalone mode (SqliteReminderTable; a cluster uses Orleans' ADO.NET
-- reminders provider on PostgreSQL). grain_hash is the grain's uniform hash (0 to 2^32-1), by which
-- a silo reads its range; start_at is UTC ticks; version is the ETag.
CREATE TABLE reminders (
    grain_id   TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    grain_hash INTEGER NOT NULL,
    start_at   INTEGER NOT NULL,
    period_ms  INTEGER NOT NULL,
    version    INTEGER NOT NULL,
    PRIMARY KEY (grain_id, name)
) WITHOUT ROWID;
CREATE INDEX ix_reminders_hash ON reminders (grain_hash);
