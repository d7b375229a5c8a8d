-- TS-CNS revocation notices to the regional CMS (decree 20 June 2011, seed 000): the events
-- Sistema TS learns about a card (holder died, card replaced or reissued), the notice queued for
-- the card's region for each card certificate to revoke, and the per-region files of pending
-- notices for the portal's file exchange with their transmission log.

-- One event about a card, as loaded by `tsgate tscns eventi carica` (unknown cards are not
-- stored). Loading the same event twice is a no-op.
CREATE TABLE evento_tessera (
    id              BIGINT         GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    numero_tessera  TEXT           NOT NULL REFERENCES tessera_sanitaria (numero),
    tipo            TEXT           NOT NULL CHECK (tipo IN ('DECESSO', 'SOSTITUZIONE', 'RIEMISSIONE')),
    data_evento     DATE           NOT NULL,
    -- Where the event comes from: the name of the loaded file.
    fonte           TEXT           NOT NULL CHECK (fonte <> ''),
    caricato_il     TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    UNIQUE (numero_tessera, tipo, data_evento)
);

-- A notice for the CMS of the card's issuing region: one per card certificate. `id` is the
-- cursor of ElencoRevoche; notices are inserted under a transaction-scoped advisory lock, so ids
-- become visible in increasing order. Pending until the CMS acknowledges it (ConfermaRevoche).
CREATE TABLE comunicazione_revoca (
    id                      BIGINT         GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    codice_regione          TEXT           NOT NULL REFERENCES regione (codice),
    numero_tessera          TEXT           NOT NULL REFERENCES tessera_sanitaria (numero),
    codice_fiscale          TEXT           NOT NULL,
    seriale_certificato     TEXT           NOT NULL CHECK (seriale_certificato ~ '^[0-9A-F]{1,40}$'),
    emittente_certificato   TEXT           NOT NULL CHECK (emittente_certificato <> ''),
    motivo                  TEXT           NOT NULL CHECK (motivo IN ('decesso', 'sostituzione', 'riemissione')),
    data_evento             DATE           NOT NULL,
    evento_id               BIGINT         NOT NULL REFERENCES evento_tessera (id),
    creata_il               TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    confermata_il           TIMESTAMPTZ(3),
    -- The ConfermaRevoche transaction that acknowledged it first.
    transazione_conferma    UUID,
    CHECK ((confermata_il IS NULL) = (transazione_conferma IS NULL)),
    UNIQUE (numero_tessera, seriale_certificato)
);
-- ElencoRevoche and the export: a region's pending notices in id order.
CREATE INDEX comunicazione_revoca_pendenti_idx
    ON comunicazione_revoca (codice_regione, id) WHERE confermata_il IS NULL;

-- One file of a region's pending notices (README, "TS-CNS revocation notices"), kept whole.
CREATE TABLE fornitura_revoche (
    id              BIGINT         GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    codice_regione  TEXT           NOT NULL REFERENCES regione (codice),
    generata_il     TIMESTAMPTZ(3) NOT NULL,
    nome_file       TEXT           NOT NULL UNIQUE,
    numero_record   INTEGER        NOT NULL CHECK (numero_record >= 0),
    sha256          TEXT           NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    contenuto       BYTEA          NOT NULL
);
CREATE INDEX fornitura_revoche_regione_idx ON fornitura_revoche (codice_regione, generata_il);

-- One row per production of a file, failed ones included (like notifica_trasmissione).
CREATE TABLE fornitura_revoche_trasmissione (
    id              BIGINT         GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    fornitura_id    BIGINT         REFERENCES fornitura_revoche (id) ON DELETE SET NULL,
    nome_file       TEXT,
    tipo            TEXT           NOT NULL CHECK (tipo IN ('ESPORTAZIONE', 'DOWNLOAD')),
    ente            TEXT           REFERENCES regione (codice),
    operatore       TEXT           NOT NULL CHECK (operatore <> ''),
    trasmessa_il    TIMESTAMPTZ(3) NOT NULL,
    esito           TEXT           NOT NULL CHECK (esito ~ '^[A-Z_]+$'),
    durata_ms       INTEGER        NOT NULL CHECK (durata_ms >= 0),
    dettaglio       TEXT
);
CREATE INDEX fornitura_revoche_trasmissione_trasmessa_idx
    ON fornitura_revoche_trasmissione (trasmessa_il);
