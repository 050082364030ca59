-- Muting: when the user's mute of a conversation ends (unix ms; 0 when not muted).
ALTER TABLE user_conversations ADD COLUMN muted_until bigint NOT NULL DEFAULT 0;
