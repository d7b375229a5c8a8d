-- Monitoring (decree 31 May 2021, annex A, 7.4 and 7.7): aggregates of the access log and of the
-- bookings and administrations, maintained by triggers in the transaction that writes the rows
-- they count, so that an aggregate never differs from what it summarises. They hold no personal
-- data (no codice fiscale, no card) and are kept `monitoraggio.retention_months`.
--
-- The triggers append one delta row per statement and key (no upsert: concurrent transactions
-- never wait for each other on a hot counter row); `tsgate` moves and merges the deltas into
-- one row per key in the background (`compattata`), and every report sums rows and pending
-- deltas, so a report reads the same numbers before and after a merge.

-- How long the request took until its answer was ready (ms): the latency of the reports.
ALTER TABLE access_log ADD COLUMN durata_ms INTEGER CHECK (durata_ms >= 0);

-- Calls per period (hour, day, week and month of Europe/Rome) and key. `esito` is the decree's
-- outcome ('00' also when a positive outcome is not kept in the log), '' when refused;
-- `codice_errore` the TSG code of a refusal, '' otherwise; `regione` the caller's region ('' for
-- national callers and for requests refused before the caller was known).
CREATE TABLE mon_traffico (
    grana            TEXT        NOT NULL CHECK (grana IN ('ora', 'giorno', 'settimana', 'mese')),
    periodo          TIMESTAMPTZ NOT NULL,
    operazione       TEXT        NOT NULL,
    chiamante        TEXT        NOT NULL,
    regione          TEXT        NOT NULL,
    esito            TEXT        NOT NULL,
    codice_errore    TEXT        NOT NULL,
    chiamate         BIGINT      NOT NULL CHECK (chiamate > 0),
    durata_ms_somma  BIGINT      NOT NULL,
    durata_ms_max    INTEGER     NOT NULL,
    compattata       BOOLEAN     NOT NULL DEFAULT FALSE
) PARTITION BY LIST (grana);
CREATE TABLE mon_traffico_ora PARTITION OF mon_traffico FOR VALUES IN ('ora');
CREATE TABLE mon_traffico_giorno PARTITION OF mon_traffico FOR VALUES IN ('giorno');
CREATE TABLE mon_traffico_settimana PARTITION OF mon_traffico FOR VALUES IN ('settimana');
CREATE TABLE mon_traffico_mese PARTITION OF mon_traffico FOR VALUES IN ('mese');
CREATE INDEX mon_traffico_periodo_idx ON mon_traffico (grana, periodo);
CREATE INDEX mon_traffico_da_compattare_idx ON mon_traffico (grana, periodo) WHERE NOT compattata;

-- The same with the client IP: read only when a report filters or groups by IP. Both tables are
-- partitioned by grain: each grain has its own statistics and its rows lie together.
CREATE TABLE mon_traffico_ip (
    grana            TEXT        NOT NULL CHECK (grana IN ('ora', 'giorno', 'settimana', 'mese')),
    periodo          TIMESTAMPTZ NOT NULL,
    operazione       TEXT        NOT NULL,
    chiamante        TEXT        NOT NULL,
    regione          TEXT        NOT NULL,
    ip_client        INET        NOT NULL,
    esito            TEXT        NOT NULL,
    codice_errore    TEXT        NOT NULL,
    chiamate         BIGINT      NOT NULL CHECK (chiamate > 0),
    durata_ms_somma  BIGINT      NOT NULL,
    durata_ms_max    INTEGER     NOT NULL,
    compattata       BOOLEAN     NOT NULL DEFAULT FALSE
) PARTITION BY LIST (grana);
CREATE TABLE mon_traffico_ip_ora PARTITION OF mon_traffico_ip FOR VALUES IN ('ora');
CREATE TABLE mon_traffico_ip_giorno PARTITION OF mon_traffico_ip FOR VALUES IN ('giorno');
CREATE TABLE mon_traffico_ip_settimana PARTITION OF mon_traffico_ip FOR VALUES IN ('settimana');
CREATE TABLE mon_traffico_ip_mese PARTITION OF mon_traffico_ip FOR VALUES IN ('mese');
CREATE INDEX mon_traffico_ip_periodo_idx ON mon_traffico_ip (grana, periodo);
CREATE INDEX mon_traffico_ip_da_compattare_idx ON mon_traffico_ip (grana, periodo) WHERE NOT compattata;

-- When each caller first called from each client IP (the misuse analysis's "IP never seen
-- before"), written when the deltas are moved (the reports also read the deltas not moved yet).
CREATE TABLE mon_ip (
    chiamante   TEXT        NOT NULL,
    ip_client   INET        NOT NULL,
    regione     TEXT        NOT NULL,
    primo_uso   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (chiamante, ip_client)
);

-- The period of `ts` at grain `grana`, in Italian time (an hour is the same hour in UTC).
CREATE FUNCTION mon_periodo(grana TEXT, ts TIMESTAMPTZ) RETURNS TIMESTAMPTZ
-- STABLE, as date_trunc with a time zone is: an IMMUTABLE wrapper of a STABLE function is
-- never inlined, and every row would pay a function call.
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE grana
        WHEN 'ora' THEN date_trunc('hour', ts, 'UTC')
        WHEN 'giorno' THEN date_trunc('day', ts, 'Europe/Rome')
        WHEN 'settimana' THEN date_trunc('week', ts, 'Europe/Rome')
        ELSE date_trunc('month', ts, 'Europe/Rome')
    END
$$;

-- The trigger's own table: per statement, one row per hour and key with the client IP (one
-- insert into one table without indexes: the cheapest write that still commits with the log).
-- The monitoring job moves these rows into every grain of mon_traffico and mon_traffico_ip and
-- into mon_ip in one statement; until then the reports read them too (`mon_delta` is part of
-- every aggregate), so a report is exact at any moment.
CREATE TABLE mon_delta (
    ora              TIMESTAMPTZ NOT NULL,
    operazione       TEXT        NOT NULL,
    chiamante        TEXT        NOT NULL,
    regione          TEXT        NOT NULL,
    ip_client        INET        NOT NULL,
    esito            TEXT        NOT NULL,
    codice_errore    TEXT        NOT NULL,
    chiamate         BIGINT      NOT NULL CHECK (chiamate > 0),
    durata_ms_somma  BIGINT      NOT NULL,
    durata_ms_max    INTEGER     NOT NULL
);

CREATE FUNCTION mon_traffico_conta() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO mon_delta (ora, operazione, chiamante, regione, ip_client, esito, codice_errore,
                           chiamate, durata_ms_somma, durata_ms_max)
    SELECT date_trunc('hour', n.ts_richiesta, 'UTC'), coalesce(n.operazione, ''),
           coalesce(n.chiamante, ''), coalesce(c.codice_regione, ''), n.ip_client,
           coalesce(n.esito, CASE WHEN n.codice_errore IS NULL THEN '00' ELSE '' END),
           coalesce(n.codice_errore, ''), count(*), coalesce(sum(n.durata_ms), 0),
           coalesce(max(n.durata_ms), 0)
    FROM nuove n
    LEFT JOIN chiamante c ON c.nome = n.chiamante
    GROUP BY 1, 2, 3, 4, 5, 6, 7;
    RETURN NULL;
END;
$$;

-- Moves every delta row visible to the statement into the grains (as rows still to be merged)
-- and into mon_ip; returns the rows moved. One statement: a delta is counted in the grains or in
-- mon_delta, never both or neither.
CREATE FUNCTION mon_sposta_delta() RETURNS BIGINT
LANGUAGE sql AS $$
    WITH via AS (DELETE FROM mon_delta RETURNING *),
    con_ip AS (
        INSERT INTO mon_traffico_ip (grana, periodo, operazione, chiamante, regione, ip_client,
                                     esito, codice_errore, chiamate, durata_ms_somma, durata_ms_max)
        SELECT g.grana, mon_periodo(g.grana, v.ora), v.operazione, v.chiamante, v.regione,
               v.ip_client, v.esito, v.codice_errore, sum(v.chiamate), sum(v.durata_ms_somma),
               max(v.durata_ms_max)
        FROM via v CROSS JOIN (VALUES ('ora'), ('giorno'), ('settimana'), ('mese')) AS g (grana)
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
        RETURNING 1),
    senza_ip AS (
        INSERT INTO mon_traffico (grana, periodo, operazione, chiamante, regione, esito,
                                  codice_errore, chiamate, durata_ms_somma, durata_ms_max)
        SELECT g.grana, mon_periodo(g.grana, v.ora), v.operazione, v.chiamante, v.regione,
               v.esito, v.codice_errore, sum(v.chiamate), sum(v.durata_ms_somma),
               max(v.durata_ms_max)
        FROM via v CROSS JOIN (VALUES ('ora'), ('giorno'), ('settimana'), ('mese')) AS g (grana)
        GROUP BY 1, 2, 3, 4, 5, 6, 7
        RETURNING 1),
    primi AS (
        INSERT INTO mon_ip (chiamante, ip_client, regione, primo_uso)
        SELECT chiamante, ip_client, min(regione), min(ora) FROM via
        WHERE chiamante <> ''
        GROUP BY 1, 2
        ON CONFLICT (chiamante, ip_client)
            DO UPDATE SET primo_uso = least(mon_ip.primo_uso, excluded.primo_uso)
        RETURNING 1)
    -- (data-modifying CTEs run whether or not they are read)
    SELECT count(*) FROM via;
$$;

CREATE TRIGGER access_log_monitoraggio AFTER INSERT ON access_log
    REFERENCING NEW TABLE AS nuove FOR EACH STATEMENT EXECUTE FUNCTION mon_traffico_conta();

-- Rebuilds the aggregates of grain `g` for the periods from the one holding `da` to the one
-- holding `a` (Italian days) from the access log; returns the calls counted. Run in a
-- REPEATABLE READ transaction (one snapshot for the delete and the count: a row committed in
-- between is neither lost nor counted twice) holding the monitoring lock.
CREATE FUNCTION mon_ricostruisci(g TEXT, da DATE, a DATE) RETURNS BIGINT
LANGUAGE plpgsql AS $$
DECLARE
    lo TIMESTAMPTZ := mon_periodo(g, da::timestamp AT TIME ZONE 'Europe/Rome');
    hi TIMESTAMPTZ := mon_periodo(g, (a + 1)::timestamp AT TIME ZONE 'Europe/Rome' - interval '1 millisecond');
    fine TIMESTAMPTZ;
    n BIGINT;
BEGIN
    fine := CASE g
        WHEN 'ora' THEN hi + interval '1 hour'
        WHEN 'giorno' THEN ((hi AT TIME ZONE 'Europe/Rome') + interval '1 day') AT TIME ZONE 'Europe/Rome'
        WHEN 'settimana' THEN ((hi AT TIME ZONE 'Europe/Rome') + interval '1 week') AT TIME ZONE 'Europe/Rome'
        ELSE ((hi AT TIME ZONE 'Europe/Rome') + interval '1 month') AT TIME ZONE 'Europe/Rome'
    END;
    DELETE FROM mon_traffico WHERE grana = g AND periodo >= lo AND periodo <= hi;
    DELETE FROM mon_traffico_ip WHERE grana = g AND periodo >= lo AND periodo <= hi;
    INSERT INTO mon_traffico_ip (grana, periodo, operazione, chiamante, regione, ip_client, esito,
                                 codice_errore, chiamate, durata_ms_somma, durata_ms_max, compattata)
    SELECT g, mon_periodo(g, l.ts_richiesta), coalesce(l.operazione, ''),
           coalesce(l.chiamante, ''), coalesce(c.codice_regione, ''), l.ip_client,
           coalesce(l.esito, CASE WHEN l.codice_errore IS NULL THEN '00' ELSE '' END),
           coalesce(l.codice_errore, ''), count(*), coalesce(sum(l.durata_ms), 0),
           coalesce(max(l.durata_ms), 0), TRUE
    FROM access_log l
    LEFT JOIN chiamante c ON c.nome = l.chiamante
    WHERE l.ts_richiesta >= lo AND l.ts_richiesta < fine
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
    INSERT INTO mon_traffico (grana, periodo, operazione, chiamante, regione, esito,
                              codice_errore, chiamate, durata_ms_somma, durata_ms_max, compattata)
    SELECT grana, periodo, operazione, chiamante, regione, esito, codice_errore, sum(chiamate),
           sum(durata_ms_somma), max(durata_ms_max), TRUE
    FROM mon_traffico_ip WHERE grana = g AND periodo >= lo AND periodo <= hi
    GROUP BY 1, 2, 3, 4, 5, 6, 7;
    INSERT INTO mon_ip (chiamante, ip_client, regione, primo_uso)
    SELECT l.chiamante, l.ip_client, coalesce(min(c.codice_regione), ''), min(l.ts_richiesta)
    FROM access_log l LEFT JOIN chiamante c ON c.nome = l.chiamante
    WHERE l.ts_richiesta >= lo AND l.ts_richiesta < fine AND l.chiamante IS NOT NULL
    GROUP BY 1, 2
    ON CONFLICT (chiamante, ip_client) DO UPDATE SET primo_uso = least(mon_ip.primo_uso, excluded.primo_uso);
    SELECT coalesce(sum(chiamate), 0) INTO n FROM mon_traffico WHERE grana = g AND periodo >= lo AND periodo <= hi;
    RETURN n;
END;
$$;

-- Bookings and administrations written per day (Italian time) of the write, by region of
-- booking / of administration, channel (web service or bulk file) and kind of write. A bulk
-- file's transaction says so with `SET LOCAL tsgate.canale = 'FLUSSO'`.
CREATE TABLE mon_vaccinazioni (
    giorno      DATE    NOT NULL,
    tipo        TEXT    NOT NULL CHECK (tipo IN ('PRENOTAZIONE', 'SOMMINISTRAZIONE')),
    regione     TEXT    NOT NULL,
    canale      TEXT    NOT NULL CHECK (canale IN ('WS', 'FLUSSO')),
    operazione  TEXT    NOT NULL CHECK (operazione IN ('INSERIMENTO', 'VARIAZIONE', 'CANCELLAZIONE')),
    numero      BIGINT  NOT NULL CHECK (numero > 0),
    compattata  BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX mon_vaccinazioni_giorno_idx ON mon_vaccinazioni (giorno);
CREATE INDEX mon_vaccinazioni_da_compattare_idx ON mon_vaccinazioni (giorno) WHERE NOT compattata;

-- TG_ARGV[0]: the kind (PRENOTAZIONE, SOMMINISTRAZIONE); TG_ARGV[1]: its region column.
CREATE FUNCTION mon_vaccinazioni_conta() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
DECLARE
    giorno DATE := (now() AT TIME ZONE 'Europe/Rome')::DATE;
    canale TEXT := CASE current_setting('tsgate.canale', TRUE) WHEN 'FLUSSO' THEN 'FLUSSO' ELSE 'WS' END;
BEGIN
    IF TG_OP = 'INSERT' THEN
        EXECUTE format('INSERT INTO mon_vaccinazioni (giorno, tipo, regione, canale, operazione, numero)
                        SELECT $1, $2, %I, $3, ''INSERIMENTO'', count(*) FROM nuove GROUP BY 3',
                       TG_ARGV[1])
            USING giorno, TG_ARGV[0], canale;
    ELSIF TG_OP = 'UPDATE' THEN
        -- A transmitted change sets the row's transaction; an update that keeps it (bookkeeping,
        -- such as the sequence exception of the next dose) is not a transmission.
        EXECUTE format('INSERT INTO mon_vaccinazioni (giorno, tipo, regione, canale, operazione, numero)
                        SELECT $1, $2, n.%I, $3, ''VARIAZIONE'', count(*)
                        FROM nuove n JOIN vecchie o ON o.id = n.id
                        WHERE o.identificativo_transazione IS DISTINCT FROM n.identificativo_transazione
                        GROUP BY 3',
                       TG_ARGV[1])
            USING giorno, TG_ARGV[0], canale;
    ELSE
        EXECUTE format('INSERT INTO mon_vaccinazioni (giorno, tipo, regione, canale, operazione, numero)
                        SELECT $1, $2, %I, $3, ''CANCELLAZIONE'', count(*) FROM vecchie GROUP BY 3',
                       TG_ARGV[1])
            USING giorno, TG_ARGV[0], canale;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER prenotazione_monitoraggio_ins AFTER INSERT ON prenotazione
    REFERENCING NEW TABLE AS nuove FOR EACH STATEMENT
    EXECUTE FUNCTION mon_vaccinazioni_conta('PRENOTAZIONE', 'regione_prenotazione');
CREATE TRIGGER prenotazione_monitoraggio_upd AFTER UPDATE ON prenotazione
    REFERENCING OLD TABLE AS vecchie NEW TABLE AS nuove FOR EACH STATEMENT
    EXECUTE FUNCTION mon_vaccinazioni_conta('PRENOTAZIONE', 'regione_prenotazione');
CREATE TRIGGER prenotazione_monitoraggio_del AFTER DELETE ON prenotazione
    REFERENCING OLD TABLE AS vecchie FOR EACH STATEMENT
    EXECUTE FUNCTION mon_vaccinazioni_conta('PRENOTAZIONE', 'regione_prenotazione');
CREATE TRIGGER somministrazione_monitoraggio_ins AFTER INSERT ON somministrazione
    REFERENCING NEW TABLE AS nuove FOR EACH STATEMENT
    EXECUTE FUNCTION mon_vaccinazioni_conta('SOMMINISTRAZIONE', 'regione_somministrazione');
CREATE TRIGGER somministrazione_monitoraggio_upd AFTER UPDATE ON somministrazione
    REFERENCING OLD TABLE AS vecchie NEW TABLE AS nuove FOR EACH STATEMENT
    EXECUTE FUNCTION mon_vaccinazioni_conta('SOMMINISTRAZIONE', 'regione_somministrazione');
CREATE TRIGGER somministrazione_monitoraggio_del AFTER DELETE ON somministrazione
    REFERENCING OLD TABLE AS vecchie FOR EACH STATEMENT
    EXECUTE FUNCTION mon_vaccinazioni_conta('SOMMINISTRAZIONE', 'regione_somministrazione');

-- Patients per region of assistance, refreshed by the monitoring job (counting tens of millions
-- of rows on every report would be slow): the denominator of the misuse ratios.
CREATE TABLE mon_assistiti (
    regione        TEXT        PRIMARY KEY REFERENCES regione (codice),
    assistiti      BIGINT      NOT NULL,
    aggiornato_il  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The profile of the monitoring reports: MEF staff (no region) see every region, a region's
-- staff only their own.
INSERT INTO profilo (codice, descrizione, voce_menu, percorso, ordine, assegnabile) VALUES
    ('MONITORAGGIO_SERVIZI', 'Monitoraggio servizi — traffico, vaccinazioni, usi impropri',
        'Monitoraggio servizi', '/servizi/monitoraggio', 40, FALSE);
