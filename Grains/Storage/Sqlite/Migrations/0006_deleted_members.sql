-- A member who deleted their account stays a member (the messages they sent stay in the log, which
-- never changes), marked here: a direct conversation with a deleted member takes no more messages.
ALTER TABLE conversation_members ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
