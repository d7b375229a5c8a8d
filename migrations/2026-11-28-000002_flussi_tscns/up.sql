-- TS-CNS first load ("primo caricamento"): a regional CMS sends its cards' activations and
-- revocations in one signed bulk file, through the same machinery as the AVN bulk bookings.
-- `flusso` learns what a file carries and, for the TS-CNS files, the region they act for; the
-- outcome of a TS-CNS record needs its kind and card number, kept here for every record.

ALTER TABLE flusso
    ADD COLUMN tipo TEXT NOT NULL DEFAULT 'PRENOTAZIONI'
        CONSTRAINT flusso_tipo CHECK (tipo IN ('PRENOTAZIONI', 'TSCNS')),
    -- The sender's region at upload time: the records are applied for it.
    ADD COLUMN codice_regione TEXT REFERENCES regione (codice),
    ADD CONSTRAINT flusso_tscns_regione CHECK (tipo <> 'TSCNS' OR codice_regione IS NOT NULL);

-- One row per record read from a TS-CNS file, committed with the record's writes and the
-- file's resume point (`flusso.record_letti`); its errors are in `flusso_errore`.
CREATE TABLE flusso_tscns_record (
    flusso_id       BIGINT  NOT NULL REFERENCES flusso (id) ON DELETE CASCADE,
    posizione       BIGINT  NOT NULL CHECK (posizione > 0),
    tipo_record     TEXT    NOT NULL CHECK (tipo_record IN ('attivazione', 'revoca')),
    -- As sent (trimmed, its first 32 characters), for the outcome; NULL when absent.
    numero_tessera  TEXT,
    -- It passed the rules needing no database: an equal later record is a duplicate (CNS-0006).
    valido          BOOLEAN NOT NULL,
    PRIMARY KEY (flusso_id, posizione)
);
