-- The two tables every message writes to (messages and user_updates) key their rows by small integers
-- instead of ids as text. A direct conversation's id is 68 characters and a user's 33, and on 1 KiB pages
-- those keys made a message's row ~200 bytes, its index entry ~140 and a log pointer ~130: leaves of 4-7
-- rows, trees 6-7 levels deep, a split every few inserts, and ~13 pages (13 KiB of WAL) written per
-- message. Each database numbers the ids it holds rows for in conversation_keys and user_keys; a number,
-- once given, is never given to another id nor taken back (rows elsewhere keep pointing at it): no statement
-- deletes from these two tables (without AUTOINCREMENT, deleting the highest number would let it be given again).
-- The rewrite of the two tables is one transaction; the pages the old tables held stay in the file as free pages
-- and are reused by later writes.

CREATE TABLE conversation_keys (
    conversation_key INTEGER NOT NULL PRIMARY KEY,
    conversation_id  TEXT    NOT NULL UNIQUE
);

CREATE TABLE user_keys (
    user_key INTEGER NOT NULL PRIMARY KEY,
    user_id  TEXT    NOT NULL UNIQUE
);

INSERT INTO conversation_keys (conversation_id)
SELECT conversation_id FROM messages UNION SELECT conversation_id FROM user_updates ORDER BY 1;

INSERT INTO user_keys (user_id)
SELECT sender_id FROM messages UNION SELECT user_id FROM user_updates ORDER BY 1;

CREATE TABLE messages_by_key (
    conversation_key INTEGER NOT NULL,
    seq              INTEGER NOT NULL,
    sender_key       INTEGER NOT NULL,
    client_msg_id    TEXT    NOT NULL,
    text             TEXT    NOT NULL,
    sent_at          INTEGER NOT NULL,
    event            TEXT,
    PRIMARY KEY (conversation_key, seq)
) WITHOUT ROWID;

INSERT INTO messages_by_key (conversation_key, seq, sender_key, client_msg_id, text, sent_at, event)
SELECT c.conversation_key, m.seq, u.user_key, m.client_msg_id, m.text, m.sent_at, m.event
FROM messages m
JOIN conversation_keys c ON c.conversation_id = m.conversation_id
JOIN user_keys u ON u.user_id = m.sender_id;

DROP TABLE messages;
ALTER TABLE messages_by_key RENAME TO messages;
CREATE UNIQUE INDEX ux_messages_client_msg_id ON messages (conversation_key, sender_key, client_msg_id);

CREATE TABLE user_updates_by_key (
    user_key         INTEGER NOT NULL,
    user_seq         INTEGER NOT NULL,
    kind             INTEGER NOT NULL,
    conversation_key INTEGER NOT NULL,
    seq              INTEGER NOT NULL,
    from_self        INTEGER NOT NULL DEFAULT 0,
    receipts         TEXT,
    PRIMARY KEY (user_key, user_seq)
) WITHOUT ROWID;

INSERT INTO user_updates_by_key (user_key, user_seq, kind, conversation_key, seq, from_self, receipts)
SELECT u.user_key, p.user_seq, p.kind, c.conversation_key, p.seq, p.from_self, p.receipts
FROM user_updates p
JOIN user_keys u ON u.user_id = p.user_id
JOIN conversation_keys c ON c.conversation_id = p.conversation_id;

DROP TABLE user_updates;
ALTER TABLE user_updates_by_key RENAME TO user_updates;
