-- Grains' own small state through Orleans' ADO.NET persistence provider
-- (Microsoft.Orleans.Persistence.AdoNet), which reads its three query texts from OrleansQuery by
-- key, binds parameters by name and reads result columns by name: those names are the contract, the
-- SQL is ours. Every storage database gets these tables; the provider uses the one holding
-- partition 0. OrleansQuery may already exist when the membership tables share this database.
CREATE TABLE IF NOT EXISTS OrleansQuery (
    QueryKey  varchar(64) NOT NULL PRIMARY KEY,
    QueryText text        NOT NULL
);

-- One row per state and grain; Version is the ETag, moved on by every write and clear. A cleared
-- state keeps its row (without payload) so its version keeps counting.
CREATE TABLE OrleansStorage (
    ServiceId              varchar(150) NOT NULL,
    GrainTypeString        varchar(512) NOT NULL,
    GrainIdN0              bigint       NOT NULL,
    GrainIdN1              bigint       NOT NULL,
    GrainIdExtensionString varchar(512) NOT NULL,
    GrainTypeHash          integer      NOT NULL,
    GrainIdHash            integer      NOT NULL,
    PayloadBinary          bytea,
    ModifiedOn             timestamptz  NOT NULL DEFAULT now(),
    Version                integer      NOT NULL,
    PRIMARY KEY (ServiceId, GrainTypeString, GrainIdN0, GrainIdN1, GrainIdExtensionString)
);

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('ReadFromStorageKey', '
    SELECT PayloadBinary, Version FROM OrleansStorage
    WHERE ServiceId = @ServiceId AND GrainTypeString = @GrainTypeString
        AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
        AND GrainIdExtensionString = COALESCE(CAST(@GrainIdExtensionString AS varchar), '''')'),

-- A write against the version the grain holds moves it on; a grain that saw no row inserts version 1.
-- Anything else changes nothing and answers the version the grain held, which the provider reports
-- as a conflict (another activation wrote first).
('WriteToStorageKey', '
    WITH updated AS (
        UPDATE OrleansStorage SET PayloadBinary = @PayloadBinary, Version = Version + 1, ModifiedOn = now()
        WHERE ServiceId = @ServiceId AND GrainTypeString = @GrainTypeString
            AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
            AND GrainIdExtensionString = COALESCE(CAST(@GrainIdExtensionString AS varchar), '''')
            AND Version = CAST(@GrainStateVersion AS integer)
        RETURNING Version),
    inserted AS (
        INSERT INTO OrleansStorage (ServiceId, GrainTypeString, GrainIdN0, GrainIdN1, GrainIdExtensionString,
            GrainTypeHash, GrainIdHash, PayloadBinary, Version)
        SELECT @ServiceId, @GrainTypeString, @GrainIdN0, @GrainIdN1, COALESCE(CAST(@GrainIdExtensionString AS varchar), ''''),
            @GrainTypeHash, @GrainIdHash, @PayloadBinary, 1
        WHERE CAST(@GrainStateVersion AS integer) IS NULL
        ON CONFLICT DO NOTHING
        RETURNING Version)
    SELECT COALESCE((SELECT Version FROM updated), (SELECT Version FROM inserted), CAST(@GrainStateVersion AS integer)) AS NewGrainStateVersion'),

('ClearStorageKey', '
    WITH cleared AS (
        UPDATE OrleansStorage SET PayloadBinary = NULL, Version = Version + 1, ModifiedOn = now()
        WHERE ServiceId = @ServiceId AND GrainTypeString = @GrainTypeString
            AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
            AND GrainIdExtensionString = COALESCE(CAST(@GrainIdExtensionString AS varchar), '''')
            AND Version = CAST(@GrainStateVersion AS integer)
        RETURNING Version)
    SELECT COALESCE((SELECT Version FROM cleared), CAST(@GrainStateVersion AS integer)) AS Version')
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;
