-- Push notifications: each user's outbox, one row per message that may need a notification, written
-- with the message's pointer. state: 0 pending, 1 sent, 2 delivered, 3 read, 4 muted, 5 collapsed,
-- 6 failed, 7 no subscription. targets: devices still to send to (a JSON array of ids), NULL before the decision.
CREATE TABLE push_outbox (
    user_id         TEXT    NOT NULL,
    conversation_id TEXT    NOT NULL,
    seq             INTEGER NOT NULL,
    user_seq        INTEGER NOT NULL,
    sender_id       TEXT    NOT NULL,
    sent_at         INTEGER NOT NULL,
    state           INTEGER NOT NULL,
    due_at          INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    targets         TEXT,
    detail          TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (user_id, conversation_id, seq)
) WITHOUT ROWID;
-- The recovery scan: pending rows by when they are due; a user's pending rows (on activation); pruning
-- finished rows by age.
CREATE INDEX ix_push_outbox_due ON push_outbox (due_at) WHERE state = 0;
CREATE INDEX ix_push_outbox_pending ON push_outbox (user_id, user_seq) WHERE state = 0;
CREATE INDEX ix_push_outbox_finished ON push_outbox (updated_at) WHERE state <> 0;
