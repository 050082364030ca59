-- When the user's last device went away (unix ms); null until first seen.
ALTER TABLE accounts ADD COLUMN last_seen INTEGER;
