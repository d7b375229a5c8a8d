-- Bookings and administrations sent by the Anagrafe Nazionale Vaccini (decree 31 May 2021,
-- annex A, section 4), the per-caller card-number rule of section 6.3, and the access-log rule of
-- section 6.5 (esito kept only when negative, so a row may have neither esito nor error code).

-- One booking per patient, dose and booking region: the same patient booked for the same dose in
-- two regions is two bookings (what the multiple-booking notices of section 5 are about).
-- A cancel (tipoOperazione C) deletes the row.
CREATE TABLE prenotazione (
    id                          BIGINT   GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    codice_fiscale              TEXT     NOT NULL REFERENCES assistito (codice_fiscale),
    dose                        SMALLINT NOT NULL CHECK (dose BETWEEN 1 AND 9),
    regione_prenotazione        TEXT     NOT NULL REFERENCES regione (codice),
    codice_regione              TEXT     NOT NULL REFERENCES regione (codice),
    codice_aic                  TEXT     CHECK (codice_aic ~ '^0[0-9]{8}$'),
    data_prenotazione           DATE     NOT NULL,
    -- The transaction (web service) or the bulk file that wrote the row last.
    identificativo_transazione  UUID     NOT NULL,
    aggiornata_il               TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    UNIQUE (codice_fiscale, dose, regione_prenotazione),
    CHECK (dose = 1 OR codice_aic IS NOT NULL)
);

-- One administration per patient and dose. A cancel deletes the row.
CREATE TABLE somministrazione (
    id                          BIGINT   GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    codice_fiscale              TEXT     NOT NULL REFERENCES assistito (codice_fiscale),
    dose                        SMALLINT NOT NULL CHECK (dose BETWEEN 1 AND 9),
    regione_somministrazione    TEXT     NOT NULL REFERENCES regione (codice),
    codice_regione              TEXT     NOT NULL REFERENCES regione (codice),
    codice_aic                  TEXT     NOT NULL CHECK (codice_aic ~ '^0[0-9]{8}$'),
    data_somministrazione       DATE     NOT NULL,
    -- Recorded without dose n-1, on the region's explicit request.
    deroga_sequenza             BOOLEAN  NOT NULL DEFAULT FALSE,
    identificativo_transazione  UUID     NOT NULL,
    aggiornata_il               TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    UNIQUE (codice_fiscale, dose)
);

-- Section 6.3: whether the caller must send numeroTessera to VerificaSomministrazioni.
ALTER TABLE chiamante ADD COLUMN tessera_obbligatoria BOOLEAN NOT NULL DEFAULT TRUE;

-- Section 6.5 keeps the esito only when negative: a positive VerificaSomministrazioni row has
-- neither esito nor error code; every other row has exactly one of them.
ALTER TABLE access_log DROP CONSTRAINT access_log_check;
ALTER TABLE access_log ADD CONSTRAINT access_log_esito_o_errore
    CHECK ((esito IS NULL) <> (codice_errore IS NULL)
           OR (operazione = 'VerificaSomministrazioni' AND esito IS NULL AND codice_errore IS NULL));
