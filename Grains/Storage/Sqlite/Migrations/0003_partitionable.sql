-- Partition-ready layout: no statement of the running product reads a user's rows together with
-- a conversation's rows, so user logs and conversation logs may live in different databases.
-- (This migration itself still reads across them, once, to convert existing data in place.)

-- A user's pointer says whether the user sent the message: replaying the log then moves the read
-- mark without reading the message.
ALTER TABLE user_updates ADD COLUMN from_self INTEGER NOT NULL DEFAULT 0;
UPDATE user_updates SET from_self = 1
WHERE kind = 1 AND EXISTS (SELECT 1 FROM messages m
    WHERE m.conversation_id = user_updates.conversation_id AND m.seq = user_updates.seq AND m.sender_id = user_updates.user_id);

-- The pointer index went with every update (a second B-tree insert per delivery) to guard what the
-- primary key already guards: two activations of one user number their updates from the same log
-- end, so the second writer always collides on (user_id, user_seq) first. The rare lookup by
-- message (a retried send) scans the user's log backwards from its end instead.
DROP INDEX ux_user_updates_pointer;

-- The user's list carries what it shows of each conversation, instead of joining the conversation.
ALTER TABLE user_conversations ADD COLUMN kind INTEGER NOT NULL DEFAULT 1;
ALTER TABLE user_conversations ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE user_conversations ADD COLUMN members TEXT NOT NULL DEFAULT '';
UPDATE user_conversations SET
    kind = COALESCE((SELECT c.kind FROM conversations c WHERE c.conversation_id = user_conversations.conversation_id), 1),
    created_at = COALESCE((SELECT c.created_at FROM conversations c WHERE c.conversation_id = user_conversations.conversation_id), 0),
    members = COALESCE((SELECT group_concat(m.user_id, ' ') FROM conversation_members m WHERE m.conversation_id = user_conversations.conversation_id), '');

-- Per user: the list above is complete up to checkpoint_user_seq (later updates are replayed on
-- load), and when the user was last seen. Until now the list was written with every update.
CREATE TABLE user_state (
    user_id             TEXT    NOT NULL PRIMARY KEY,
    checkpoint_user_seq INTEGER NOT NULL DEFAULT 0,
    last_seen           INTEGER
) WITHOUT ROWID;
INSERT INTO user_state (user_id, checkpoint_user_seq, last_seen)
SELECT a.user_id, COALESCE((SELECT MAX(u.user_seq) FROM user_updates u WHERE u.user_id = a.user_id), 0), a.last_seen
FROM accounts a;
ALTER TABLE accounts DROP COLUMN last_seen;

-- A conversation's last seq is the end of its log (one index seek), no longer a counter written
-- with every append.
ALTER TABLE conversations DROP COLUMN last_seq;
