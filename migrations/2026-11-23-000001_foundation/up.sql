-- Foundation schema: reference data (regions, ASL), the registry (assistiti, tessere),
-- callers with their certificates and IP ranges, and the access log partitioned by month.

CREATE TABLE regione (
    codice          TEXT    PRIMARY KEY CHECK (codice ~ '^[0-9]{3}$'),
    denominazione   TEXT    NOT NULL,
    virtuale        BOOLEAN NOT NULL DEFAULT FALSE
);

INSERT INTO regione (codice, denominazione, virtuale) VALUES
    ('010', 'Piemonte', FALSE), ('020', 'Valle d''Aosta', FALSE), ('030', 'Lombardia', FALSE),
    ('041', 'P.A. Bolzano', FALSE), ('042', 'P.A. Trento', FALSE), ('050', 'Veneto', FALSE),
    ('060', 'Friuli Venezia Giulia', FALSE), ('070', 'Liguria', FALSE),
    ('080', 'Emilia Romagna', FALSE), ('090', 'Toscana', FALSE), ('100', 'Umbria', FALSE),
    ('110', 'Marche', FALSE), ('120', 'Lazio', FALSE), ('130', 'Abruzzo', FALSE),
    ('140', 'Molise', FALSE), ('150', 'Campania', FALSE), ('160', 'Puglia', FALSE),
    ('170', 'Basilicata', FALSE), ('180', 'Calabria', FALSE), ('190', 'Sicilia', FALSE),
    ('200', 'Sardegna', FALSE), ('300', 'Ministero della Difesa', TRUE);

CREATE TABLE asl (
    codice_regione  TEXT    NOT NULL REFERENCES regione (codice),
    codice          TEXT    NOT NULL CHECK (length(codice) = 3),
    denominazione   TEXT    NOT NULL,
    PRIMARY KEY (codice_regione, codice)
);

CREATE TABLE assistito (
    codice_fiscale          TEXT     PRIMARY KEY CHECK (codice_fiscale ~ '^[A-Z0-9]{16}$'),
    cognome                 TEXT     NOT NULL,
    nome                    TEXT     NOT NULL,
    regione_assistenza      TEXT     NOT NULL REFERENCES regione (codice),
    asl_assistenza          TEXT,
    regione_residenza       TEXT     NOT NULL REFERENCES regione (codice),
    identificativo_cluster  TEXT,
    FOREIGN KEY (regione_assistenza, asl_assistenza) REFERENCES asl (codice_regione, codice)
);

CREATE TABLE tessera_sanitaria (
    numero          TEXT     PRIMARY KEY CHECK (numero ~ '^[0-9]{20}$'),
    codice_fiscale  TEXT     NOT NULL REFERENCES assistito (codice_fiscale),
    data_scadenza   DATE     NOT NULL
);
CREATE INDEX tessera_sanitaria_codice_fiscale_idx ON tessera_sanitaria (codice_fiscale);

CREATE TABLE chiamante (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    nome                TEXT    NOT NULL UNIQUE CHECK (nome ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
    tipo                TEXT    NOT NULL
                        CHECK (tipo IN ('REGIONE', 'PIATTAFORMA_NAZIONALE', 'AVN', 'CMS')),
    codice_regione      TEXT    REFERENCES regione (codice),
    operazioni          TEXT[]  NOT NULL DEFAULT '{}',
    limite_al_secondo   INTEGER NOT NULL DEFAULT 50 CHECK (limite_al_secondo > 0),
    limite_raffica      INTEGER NOT NULL DEFAULT 100 CHECK (limite_raffica > 0),
    abilitato           BOOLEAN NOT NULL DEFAULT TRUE,
    creato_il           TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (tipo NOT IN ('REGIONE', 'CMS') OR codice_regione IS NOT NULL)
);

CREATE TABLE chiamante_rete (
    chiamante_id    BIGINT NOT NULL REFERENCES chiamante (id) ON DELETE CASCADE,
    rete            CIDR   NOT NULL,
    PRIMARY KEY (chiamante_id, rete)
);

CREATE TABLE chiamante_certificato (
    impronta_sha256 TEXT   PRIMARY KEY CHECK (impronta_sha256 ~ '^[0-9a-f]{64}$'),
    chiamante_id    BIGINT NOT NULL REFERENCES chiamante (id) ON DELETE CASCADE,
    seriale         TEXT   NOT NULL,
    scadenza        TIMESTAMPTZ NOT NULL,
    revocato_il     TIMESTAMPTZ,
    registrato_il   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX chiamante_certificato_chiamante_idx ON chiamante_certificato (chiamante_id);

-- One row per transaction, refused ones included (decree 31 May 2021, annex A, 3.5).
-- esito is the decree's outcome when the request was answered; codice_errore the TSG fault code
-- when it was refused. numero_tessera and data_scadenza_tessera are kept only for negative outcomes.
CREATE TABLE access_log (
    id                          BIGINT GENERATED ALWAYS AS IDENTITY,
    ts_richiesta                TIMESTAMPTZ(3) NOT NULL,
    identificativo_transazione  UUID        NOT NULL,
    operazione                  TEXT,
    chiamante                   TEXT,
    ip_client                   INET        NOT NULL,
    esito                       TEXT        CHECK (esito ~ '^[0-9]{2}$'),
    codice_errore               TEXT,
    codice_fiscale              TEXT        CHECK (length(codice_fiscale) = 16),
    numero_tessera              TEXT        CHECK (length(numero_tessera) = 20),
    data_scadenza_tessera       DATE,
    PRIMARY KEY (id, ts_richiesta),
    CHECK ((esito IS NULL) <> (codice_errore IS NULL))
) PARTITION BY RANGE (ts_richiesta);

CREATE INDEX access_log_transazione_idx ON access_log (identificativo_transazione);
CREATE INDEX access_log_chiamante_ts_idx ON access_log (chiamante, ts_richiesta);

-- Creates the monthly partitions covering [month of from_day, + months] if missing.
CREATE FUNCTION access_log_ensure_partitions(from_day DATE, months INTEGER) RETURNS INTEGER
LANGUAGE plpgsql AS $$
DECLARE
    first_day DATE := date_trunc('month', from_day)::DATE;
    m DATE;
    created INTEGER := 0;
BEGIN
    FOR i IN 0..months LOOP
        m := (first_day + make_interval(months => i))::DATE;
        IF to_regclass(format('access_log_%s', to_char(m, 'YYYYMM'))) IS NULL THEN
            EXECUTE format(
                'CREATE TABLE %I PARTITION OF access_log FOR VALUES FROM (%L) TO (%L)',
                format('access_log_%s', to_char(m, 'YYYYMM')),
                m::TEXT || ' 00:00:00+00',
                (m + INTERVAL '1 month')::DATE::TEXT || ' 00:00:00+00');
            created := created + 1;
        END IF;
    END LOOP;
    RETURN created;
END;
$$;

-- Drops every monthly partition whose whole range ends on or before cutoff; returns their names.
CREATE FUNCTION access_log_drop_partitions_before(cutoff TIMESTAMPTZ) RETURNS SETOF TEXT
LANGUAGE plpgsql AS $$
DECLARE
    part RECORD;
    upper_bound TIMESTAMPTZ;
BEGIN
    FOR part IN
        SELECT c.relname AS name
        FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid
        JOIN pg_class p ON p.oid = i.inhparent
        WHERE p.relname = 'access_log' AND c.relname ~ '^access_log_[0-9]{6}$'
        ORDER BY c.relname
    LOOP
        upper_bound := (to_date(substr(part.name, 12), 'YYYYMM') + INTERVAL '1 month')::DATE::TEXT
                       || ' 00:00:00+00';
        IF upper_bound <= cutoff THEN
            EXECUTE format('DROP TABLE %I', part.name);
            RETURN NEXT part.name;
        END IF;
    END LOOP;
END;
$$;

SELECT access_log_ensure_partitions((now() AT TIME ZONE 'UTC')::DATE - 31, 4);
