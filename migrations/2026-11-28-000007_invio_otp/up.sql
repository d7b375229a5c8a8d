-- Issue 6: the operator flow of "Caricamento App Immuni" (seed 004). The session carries the
-- pincode gate and the current captcha; every OTP submission is recorded.

-- The pincode gate (three wrong pincodes lock the service for the session) and the captcha of
-- the OTP form: its answer (short-lived, single use; kept server side like any session datum).
ALTER TABLE sessione
    ADD COLUMN pincode_verificato BOOLEAN        NOT NULL DEFAULT FALSE,
    ADD COLUMN pincode_errori     INTEGER        NOT NULL DEFAULT 0 CHECK (pincode_errori >= 0),
    ADD COLUMN captcha            TEXT,
    ADD COLUMN captcha_scade      TIMESTAMPTZ(3);

-- One row per OTP submission, valid or not: transaction id, operator, ASL, time (ms), outcome
-- and reason. The OTP only as its SHA-256 (NULL when what was typed is not an OTP at all).
CREATE TABLE invio_otp (
    id_transazione  UUID           PRIMARY KEY,
    codice_fiscale  TEXT           NOT NULL,
    codice_regione  TEXT,
    codice_asl      TEXT,
    istante         TIMESTAMPTZ(3) NOT NULL,
    otp_sha256      TEXT           CHECK (otp_sha256 ~ '^[0-9a-f]{64}$'),
    inizio_sintomi  DATE,
    -- POSITIVO (204), NEGATIVO (the service said no, or did not answer), NON_VALIDO (refused
    -- before any call), LIMITE (over the hourly limit).
    esito           TEXT           NOT NULL CHECK (esito IN ('POSITIVO', 'NEGATIVO', 'NON_VALIDO', 'LIMITE')),
    motivo          TEXT,
    durata_ms       INTEGER        NOT NULL CHECK (durata_ms >= 0)
);
CREATE INDEX invio_otp_operatore_idx ON invio_otp (codice_fiscale, istante);
CREATE INDEX invio_otp_istante_idx ON invio_otp (istante);
