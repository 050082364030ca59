-- The messenger's tables in one PostgreSQL database of the cluster. Every database has all of them
-- and holds the rows of the logical partitions the configuration gives it (StoragePartitions):
-- a conversation's rows live with the partition of its id, a user's rows with the partition of the
-- user id, and an account with the partition of its username (its id row with the user id's).
-- No statement reads rows of two partitions together except by key, database by database.
-- Times are unix milliseconds.

-- Accounts by (normalised) username: the primary key makes a username unique.
CREATE TABLE accounts (
    username      text   NOT NULL PRIMARY KEY,
    user_id       text   NOT NULL,
    password_hash text   NOT NULL,
    created_at    bigint NOT NULL
);

-- Which username a user id registered with, placed by the user id; the account row decides
-- (an id row whose username now belongs to another user id is a leftover of a failed registration).
CREATE TABLE account_ids (
    user_id  text NOT NULL PRIMARY KEY,
    username text NOT NULL
);

CREATE TABLE conversations (
    conversation_id text     NOT NULL PRIMARY KEY,
    kind            smallint NOT NULL,
    created_at      bigint   NOT NULL,
    fanned_out_seq  bigint   NOT NULL DEFAULT 0
);

CREATE TABLE conversation_members (
    conversation_id text NOT NULL,
    user_id         text NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
);

-- The conversation log: (conversation_id, seq) is the identity and forbids a fork; the unique
-- index makes a retried send find its original.
CREATE TABLE messages (
    conversation_id text   NOT NULL,
    seq             bigint NOT NULL,
    sender_id       text   NOT NULL,
    client_msg_id   text   NOT NULL,
    text            text   NOT NULL,
    sent_at         bigint NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);
CREATE UNIQUE INDEX ux_messages_client_msg_id ON messages (conversation_id, sender_id, client_msg_id);

-- Each user's update log: pointers to messages and read marks under a gapless user_seq.
CREATE TABLE user_updates (
    user_id         text     NOT NULL,
    user_seq        bigint   NOT NULL,
    kind            smallint NOT NULL,
    conversation_id text     NOT NULL,
    seq             bigint   NOT NULL,
    from_self       boolean  NOT NULL,
    PRIMARY KEY (user_id, user_seq)
);

-- A user's conversation list as of user_state.checkpoint_user_seq (later updates are replayed).
-- members: the member ids separated by single spaces.
CREATE TABLE user_conversations (
    user_id         text     NOT NULL,
    conversation_id text     NOT NULL,
    kind            smallint NOT NULL,
    created_at      bigint   NOT NULL,
    members         text     NOT NULL,
    last_seq        bigint   NOT NULL,
    read_seq        bigint   NOT NULL,
    PRIMARY KEY (user_id, conversation_id)
);

CREATE TABLE user_state (
    user_id             text   NOT NULL PRIMARY KEY,
    checkpoint_user_seq bigint NOT NULL DEFAULT 0,
    last_seen           bigint
);
