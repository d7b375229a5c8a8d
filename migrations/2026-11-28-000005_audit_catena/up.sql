-- Tamper-evident audit log of the operator portal (issue 5): every administrative change and
-- every operator login, each row chained to the previous one by its hash (src/audit/catena.rs
-- holds the canonical encoding and the rules). Rows are never purged.

-- One event. `id` is assigned by `catena::registra` as head.ultimo_id + 1 while it holds the
-- head's row lock, so ids are contiguous from 1 (a rolled-back insert rolls the head back too)
-- and a gap means deleted rows. hash = SHA-256(hash_precedente || encoding of the row).
CREATE TABLE audit_amministrativo (
    id               BIGINT         PRIMARY KEY CHECK (id > 0),
    istante          TIMESTAMPTZ(3) NOT NULL,
    -- Codice fiscale of the operator acting, or 'tsgate-cli'.
    attore           TEXT           NOT NULL CHECK (attore <> ''),
    -- E.g. LOGIN, LOGIN_FALLITO, ABILITA_PROFILO, DISABILITA_PROFILO, SBLOCCA_UTENTE,
    -- REGISTRA_CNS, RIGENERA_PINCODE (no CHECK: a new action needs no migration).
    azione           TEXT           NOT NULL CHECK (azione <> ''),
    -- Codice fiscale of the operator affected, when there is one.
    oggetto          TEXT,
    dettaglio        TEXT,
    esito            TEXT,
    -- 32 zero bytes for the first row.
    hash_precedente  BYTEA          NOT NULL CHECK (octet_length(hash_precedente) = 32),
    hash             BYTEA          NOT NULL UNIQUE CHECK (octet_length(hash) = 32)
);

-- The head of the chain: one row, updated in the same transaction as each insert, so deleting
-- the last rows is detected too. Writers lock it (SELECT ... FOR UPDATE) to serialise inserts.
CREATE TABLE audit_testa (
    unica        BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (unica),
    -- 0 while the chain is empty.
    ultimo_id    BIGINT  NOT NULL CHECK (ultimo_id >= 0),
    ultimo_hash  BYTEA   NOT NULL CHECK (octet_length(ultimo_hash) = 32)
);

INSERT INTO audit_testa (unica, ultimo_id, ultimo_hash)
VALUES (TRUE, 0, decode(repeat('00', 32), 'hex'));
