-- The tables and named queries of Orleans' ADO.NET clustering provider (Microsoft.Orleans.Clustering.AdoNet),
-- written for PostgreSQL. The provider reads every query text from OrleansQuery by key, binds its
-- parameters by name (@DeploymentId, @Address, …) and reads result columns by name, so those names
-- are the contract; the SQL behind them is ours. The membership table is guarded by one version row
-- per cluster: a write succeeds only against the version the writer read, and moves it on.
-- Times are timestamptz; connections to this database use UTC. The database may also hold storage
-- (OrleansQuery is shared with the grain state provider's queries).

CREATE TABLE IF NOT EXISTS OrleansQuery (
    QueryKey  varchar(64) NOT NULL PRIMARY KEY,
    QueryText text        NOT NULL
);

CREATE TABLE OrleansMembershipVersionTable (
    DeploymentId varchar(150) NOT NULL PRIMARY KEY,
    Timestamp    timestamptz  NOT NULL DEFAULT now(),
    Version      integer      NOT NULL DEFAULT 0
);

CREATE TABLE OrleansMembershipTable (
    DeploymentId varchar(150) NOT NULL REFERENCES OrleansMembershipVersionTable (DeploymentId),
    Address      varchar(45)  NOT NULL,
    Port         integer      NOT NULL,
    Generation   integer      NOT NULL,
    SiloName     varchar(150) NOT NULL,
    HostName     varchar(150) NOT NULL,
    Status       integer      NOT NULL,
    ProxyPort    integer,
    SuspectTimes text,
    StartTime    timestamptz  NOT NULL,
    IAmAliveTime timestamptz  NOT NULL,
    PRIMARY KEY (DeploymentId, Address, Port, Generation)
);

-- Moves the cluster's table version on from the one the writer read; false when it moved meanwhile.
CREATE FUNCTION messenger_membership_bump(p_deployment_id varchar, p_expected_version integer) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE OrleansMembershipVersionTable SET Version = Version + 1, Timestamp = now()
    WHERE DeploymentId = p_deployment_id AND Version = p_expected_version;
    RETURN FOUND;
END;
$$;

-- Adds a silo's row and moves the version on, both or neither: false when the version moved
-- meanwhile or the row exists.
CREATE FUNCTION messenger_membership_insert(
    p_deployment_id varchar, p_address varchar, p_port integer, p_generation integer, p_silo_name varchar,
    p_host_name varchar, p_status integer, p_proxy_port integer, p_start_time timestamptz,
    p_i_am_alive_time timestamptz, p_expected_version integer) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT messenger_membership_bump(p_deployment_id, p_expected_version) THEN
        RETURN false;
    END IF;
    INSERT INTO OrleansMembershipTable (DeploymentId, Address, Port, Generation, SiloName, HostName, Status,
        ProxyPort, SuspectTimes, StartTime, IAmAliveTime)
    VALUES (p_deployment_id, p_address, p_port, p_generation, p_silo_name, p_host_name, p_status,
        p_proxy_port, NULL, p_start_time, p_i_am_alive_time);
    RETURN true;
EXCEPTION WHEN unique_violation THEN
    RETURN false; -- the version update above is undone with the block
END;
$$;

-- Changes a silo's row and moves the version on, both or neither: false when the version moved
-- meanwhile or the row is gone.
CREATE FUNCTION messenger_membership_update(
    p_deployment_id varchar, p_address varchar, p_port integer, p_generation integer, p_status integer,
    p_suspect_times text, p_i_am_alive_time timestamptz, p_expected_version integer) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT messenger_membership_bump(p_deployment_id, p_expected_version) THEN
        RETURN false;
    END IF;
    UPDATE OrleansMembershipTable
    SET Status = p_status, SuspectTimes = NULLIF(p_suspect_times, ''), IAmAliveTime = p_i_am_alive_time
    WHERE DeploymentId = p_deployment_id AND Address = p_address AND Port = p_port AND Generation = p_generation;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'no_data_found';
    END IF;
    RETURN true;
EXCEPTION WHEN no_data_found THEN
    RETURN false; -- the version update above is undone with the block
END;
$$;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('InsertMembershipVersionKey', '
    WITH inserted AS (
        INSERT INTO OrleansMembershipVersionTable (DeploymentId) VALUES (@DeploymentId)
        ON CONFLICT (DeploymentId) DO NOTHING RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM inserted)'),

('InsertMembershipKey', '
    SELECT messenger_membership_insert(@DeploymentId, @Address, @Port, @Generation, @SiloName, @HostName,
        @Status, @ProxyPort, @StartTime, @IAmAliveTime, @Version)'),

('UpdateMembershipKey', '
    SELECT messenger_membership_update(@DeploymentId, @Address, @Port, @Generation, @Status,
        @SuspectTimes, @IAmAliveTime, @Version)'),

('UpdateIAmAlivetimeKey', '
    UPDATE OrleansMembershipTable SET IAmAliveTime = @IAmAliveTime
    WHERE DeploymentId = @DeploymentId AND Address = @Address AND Port = @Port AND Generation = @Generation'),

('MembershipReadRowKey', '
    SELECT v.Version, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status, m.ProxyPort,
           m.SuspectTimes, m.StartTime, m.IAmAliveTime
    FROM OrleansMembershipVersionTable v
    LEFT JOIN OrleansMembershipTable m ON m.DeploymentId = v.DeploymentId
        AND m.Address = @Address AND m.Port = @Port AND m.Generation = @Generation
    WHERE v.DeploymentId = @DeploymentId'),

('MembershipReadAllKey', '
    SELECT v.Version, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status, m.ProxyPort,
           m.SuspectTimes, m.StartTime, m.IAmAliveTime
    FROM OrleansMembershipVersionTable v
    LEFT JOIN OrleansMembershipTable m ON m.DeploymentId = v.DeploymentId
    WHERE v.DeploymentId = @DeploymentId'),

('GatewaysQueryKey', '
    SELECT Address, ProxyPort, Generation FROM OrleansMembershipTable
    WHERE DeploymentId = @DeploymentId AND Status = @Status AND ProxyPort > 0'),

('DeleteMembershipTableEntriesKey', '
    DELETE FROM OrleansMembershipTable WHERE DeploymentId = @DeploymentId;
    DELETE FROM OrleansMembershipVersionTable WHERE DeploymentId = @DeploymentId'),

('CleanupDefunctSiloEntriesKey', '
    DELETE FROM OrleansMembershipTable
    WHERE DeploymentId = @DeploymentId AND Status = 6 AND IAmAliveTime < @IAmAliveTime
        AND StartTime < @IAmAliveTime AND COALESCE(SuspectTimes, '''') = '''''),

('CleanupDefunctSiloEntryKey', '
    DELETE FROM OrleansMembershipTable
    WHERE DeploymentId = @DeploymentId AND Status = 6
        AND Address = @Address AND Port = @Port AND Generation = @Generation
        AND IAmAliveTime = @IAmAliveTime AND StartTime = @StartTime
        AND COALESCE(SuspectTimes, '''') = COALESCE(@SuspectTimes, '''')');
