-- Multiple-booking notices (decree 31 May 2021, annex A, section 5): the files produced for each
-- region and the record of every production and transmission (section 5.5), kept 12 months.

-- One produced file: the whole content is kept here (no file on disk), with its SHA-256.
CREATE TABLE notifica_prenotazioni (
    id              BIGINT         GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The region the file is for (its patients' regione_assistenza).
    codice_regione  TEXT           NOT NULL REFERENCES regione (codice),
    generata_il     TIMESTAMPTZ(3) NOT NULL,
    nome_file       TEXT           NOT NULL UNIQUE,
    numero_record   INTEGER        NOT NULL CHECK (numero_record >= 0),
    sha256          TEXT           NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    contenuto       BYTEA          NOT NULL,
    -- Produced by the server's daily schedule (true) or on demand (false).
    automatica      BOOLEAN        NOT NULL DEFAULT FALSE
);
CREATE INDEX notifica_prenotazioni_regione_idx
    ON notifica_prenotazioni (codice_regione, generata_il);
CREATE INDEX notifica_prenotazioni_generata_idx ON notifica_prenotazioni (generata_il);

-- Section 5.5: one row per production, export or download of a file, failed ones included.
-- notifica_id and nome_file are NULL when the requested file does not exist; notifica_id becomes
-- NULL when the file expires before its log row, nome_file stays.
CREATE TABLE notifica_trasmissione (
    id              BIGINT         GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    notifica_id     BIGINT         REFERENCES notifica_prenotazioni (id) ON DELETE SET NULL,
    nome_file       TEXT,
    tipo            TEXT           NOT NULL
                    CHECK (tipo IN ('PRODUZIONE', 'ESPORTAZIONE', 'DOWNLOAD')),
    -- Ente verso il quale è stata effettuata la trasmissione (NULL only for an unknown file
    -- exported by command, whose region cannot be known).
    ente            TEXT           REFERENCES regione (codice),
    -- Operatore che ha effettuato il download della fornitura.
    operatore       TEXT           NOT NULL CHECK (operatore <> ''),
    -- Data-ora-minuti-secondi-millisecondi della trasmissione (its start, UTC).
    trasmessa_il    TIMESTAMPTZ(3) NOT NULL,
    -- Esito: OK or an error code (see README, "Multiple-booking notices").
    esito           TEXT           NOT NULL CHECK (esito ~ '^[A-Z_]+$'),
    -- Durata della trasmissione, in milliseconds.
    durata_ms       INTEGER        NOT NULL CHECK (durata_ms >= 0),
    -- The error message of a failed transmission.
    dettaglio       TEXT
);
CREATE INDEX notifica_trasmissione_trasmessa_idx ON notifica_trasmissione (trasmessa_il);
CREATE INDEX notifica_trasmissione_notifica_idx ON notifica_trasmissione (notifica_id);

-- The notices of one region join its patients to their bookings: patients by assistance region,
-- then bookings by codice fiscale (the leading column of prenotazione's unique index).
CREATE INDEX assistito_regione_assistenza_idx ON assistito (regione_assistenza);
