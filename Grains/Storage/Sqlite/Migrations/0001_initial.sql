-- Accounts: username is stored normalised (lower case) and unique.
CREATE TABLE accounts (
    user_id       TEXT    NOT NULL PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE conversations (
    conversation_id TEXT    NOT NULL PRIMARY KEY,
    kind            INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    last_seq        INTEGER NOT NULL DEFAULT 0,
    fanned_out_seq  INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE conversation_members (
    conversation_id TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
) WITHOUT ROWID;

-- The conversation log: (conversation_id, seq) is the identity and forbids a fork;
-- the unique index makes a retried send find its original.
CREATE TABLE messages (
    conversation_id TEXT    NOT NULL,
    seq             INTEGER NOT NULL,
    sender_id       TEXT    NOT NULL,
    client_msg_id   TEXT    NOT NULL,
    text            TEXT    NOT NULL,
    sent_at         INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX ux_messages_client_msg_id ON messages (conversation_id, sender_id, client_msg_id);

-- The per-user update log: gapless user_seq; one entry per (kind, conversation, seq).
CREATE TABLE user_updates (
    user_id         TEXT    NOT NULL,
    user_seq        INTEGER NOT NULL,
    kind            INTEGER NOT NULL,
    conversation_id TEXT    NOT NULL,
    seq             INTEGER NOT NULL,
    PRIMARY KEY (user_id, user_seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX ux_user_updates_pointer ON user_updates (user_id, conversation_id, kind, seq);

CREATE TABLE user_conversations (
    user_id         TEXT    NOT NULL,
    conversation_id TEXT    NOT NULL,
    last_seq        INTEGER NOT NULL,
    read_seq        INTEGER NOT NULL,
    PRIMARY KEY (user_id, conversation_id)
) WITHOUT ROWID;
