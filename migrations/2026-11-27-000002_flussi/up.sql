-- Bulk booking files (decree 31 May 2021, annex A, 4.1: the "flusso massivo" of the AVN).
-- One row per file received; its per-record errors; and the staging area the records go through
-- before they are applied to `prenotazione` in one set-based transaction.

-- Protocol numbers are yyMMddHHmmss (UTC) + the last 5 digits of this sequence.
CREATE SEQUENCE flusso_protocollo_seq;

CREATE TABLE flusso (
    id                          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    protocollo                  TEXT    NOT NULL UNIQUE CHECK (protocollo ~ '^[0-9]{17}$'),
    -- The upload's transaction; also written on every `prenotazione` row the file writes.
    identificativo_transazione  UUID    NOT NULL UNIQUE,
    chiamante                   TEXT    NOT NULL,
    -- SHA-256 of the whole .p7m as received: the same file twice is detected by it.
    impronta_sha256             TEXT    NOT NULL CHECK (impronta_sha256 ~ '^[0-9a-f]{64}$'),
    stato                       TEXT    NOT NULL
                                CHECK (stato IN ('RICEVUTO', 'IN_ELABORAZIONE', 'ELABORATO', 'RIFIUTATO')),
    codice_rifiuto              TEXT,
    motivo_rifiuto              TEXT,
    -- The spool file and where the signed XML lies in it (set once the signature is verified).
    percorso                    TEXT,
    contenuto_inizio            BIGINT,
    contenuto_lunghezza         BIGINT,
    -- Records read and staged, committed with each staging batch (the resume point).
    record_letti                BIGINT  NOT NULL DEFAULT 0,
    -- Known once the whole file is read, resp. applied.
    record_totali               BIGINT,
    record_scartati             BIGINT,
    ricevuto_il                 TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    terminato_il                TIMESTAMPTZ(3),
    CHECK ((stato = 'RIFIUTATO') = (codice_rifiuto IS NOT NULL)),
    CHECK (stato = 'RIFIUTATO' OR (percorso IS NOT NULL AND contenuto_inizio IS NOT NULL
                                   AND contenuto_lunghezza IS NOT NULL))
);

-- The same file from the same caller is recorded once, unless it was refused (a refusal may be
-- temporary: the file may be sent again).
CREATE UNIQUE INDEX flusso_impronta_accettata ON flusso (chiamante, impronta_sha256)
    WHERE stato <> 'RIFIUTATO';

-- The worker's queue.
CREATE INDEX flusso_da_elaborare ON flusso (id) WHERE stato IN ('RICEVUTO', 'IN_ELABORAZIONE');

-- Only the errors are stored (a record without a row here has esito 00); `ordine` keeps the
-- errors of one record in field order.
CREATE TABLE flusso_errore (
    flusso_id   BIGINT   NOT NULL REFERENCES flusso (id) ON DELETE CASCADE,
    posizione   BIGINT   NOT NULL CHECK (posizione > 0),
    ordine      SMALLINT NOT NULL,
    codice      TEXT     NOT NULL,
    PRIMARY KEY (flusso_id, posizione, ordine)
);

-- Staged records that passed the rules needing no database. One UNLOGGED partition per file
-- (created by the importer, dropped when the file is applied); the importer checks its row count
-- against `flusso.record_letti` before resuming, and starts the file again when they differ
-- (an unlogged partition is emptied by a PostgreSQL crash).
CREATE TABLE flusso_record (
    flusso_id             BIGINT   NOT NULL,
    posizione             BIGINT   NOT NULL,
    tipo_operazione       TEXT     NOT NULL,
    codice_fiscale        TEXT     NOT NULL,
    dose                  SMALLINT NOT NULL,
    regione_prenotazione  TEXT     NOT NULL,
    codice_regione        TEXT     NOT NULL,
    codice_aic            TEXT,
    data_prenotazione     DATE     NOT NULL
) PARTITION BY LIST (flusso_id);
