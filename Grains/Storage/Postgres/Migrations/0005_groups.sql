-- Groups. A membership event is a row of the log like a message (empty text, the event in `event`, a small
-- JSON object); the append that writes it also applies it to the members and the title, in one transaction.
-- A member sees the log from joined_seq; left_seq is the seq of the event that removed them (0 while a member).
-- A user's list entry of a group keeps its title and member count, not its member list; `left_group` marks a
-- group the user left or was removed from.
ALTER TABLE messages ADD COLUMN event text;
ALTER TABLE conversations ADD COLUMN title text;
ALTER TABLE conversation_members ADD COLUMN role smallint NOT NULL DEFAULT 1;
ALTER TABLE conversation_members ADD COLUMN joined_seq bigint NOT NULL DEFAULT 1;
ALTER TABLE conversation_members ADD COLUMN left_seq bigint NOT NULL DEFAULT 0;
ALTER TABLE user_conversations ADD COLUMN title text;
ALTER TABLE user_conversations ADD COLUMN member_count integer NOT NULL DEFAULT 2;
ALTER TABLE user_conversations ADD COLUMN left_group boolean NOT NULL DEFAULT false;
