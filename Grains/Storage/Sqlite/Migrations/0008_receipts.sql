-- Receipts. Each member's receipt pointers in a conversation (saved lazily: they are advisory, and a member's
-- read mark is durable in their own log), and the counts a receipts update of a user's log carries.
ALTER TABLE conversation_members ADD COLUMN delivered_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversation_members ADD COLUMN read_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE user_updates ADD COLUMN receipts TEXT;
