-- Operator portal (issue 5): the operators and their profiles, the CNS certificates bound to
-- them, the portal sessions, and the operators' access log of decree section 2.5.

-- A service of the portal; an operator sees and may use only the services of their profiles.
CREATE TABLE profilo (
    codice          TEXT    PRIMARY KEY CHECK (codice ~ '^[A-Z_]+$'),
    descrizione     TEXT    NOT NULL,
    -- The menu entry on the services page and the path it opens.
    voce_menu       TEXT    NOT NULL,
    percorso        TEXT    NOT NULL CHECK (percorso ~ '^/'),
    ordine          INTEGER NOT NULL,
    -- Whether the security administrator of an ASL may enable it for the ASL's users.
    assegnabile     BOOLEAN NOT NULL
);

INSERT INTO profilo (codice, descrizione, voce_menu, percorso, ordine, assegnabile) VALUES
    ('INVIO_OTP', 'Sistema TS-Invio codice OTP', 'Caricamento App Immuni', '/servizi/otp', 10, TRUE),
    ('SCAMBIO_FILE', 'Scambio File', 'Scambio File', '/servizi/file', 20, TRUE),
    ('AMMINISTRATORE_SICUREZZA', 'Amministratore di sicurezza della ASL',
        'Gestione Utenze', '/servizi/utenze', 90, FALSE);

CREATE TABLE utente (
    id                      BIGINT         GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Codice Identificativo of the credentials login.
    codice_identificativo   TEXT           NOT NULL UNIQUE
                            CHECK (codice_identificativo ~ '^[A-Z0-9]{6,16}$'),
    codice_fiscale          TEXT           NOT NULL UNIQUE CHECK (codice_fiscale ~ '^[A-Z0-9]{16}$'),
    cognome                 TEXT           NOT NULL,
    nome                    TEXT           NOT NULL,
    data_nascita            DATE,
    sesso                   TEXT           CHECK (sesso IN ('M', 'F')),
    luogo_nascita           TEXT,
    provincia_nascita       TEXT,
    tipo                    TEXT           NOT NULL
                            CHECK (tipo IN ('ASL', 'REGIONE', 'MEDICO', 'PROFESSIONISTA', 'AMMINISTRAZIONE')),
    codice_regione          TEXT           REFERENCES regione (codice),
    codice_asl              TEXT,
    indirizzo_lavoro        TEXT,
    cap_lavoro              TEXT,
    comune_lavoro           TEXT,
    provincia_lavoro        TEXT,
    telefono                TEXT,
    fax                     TEXT,
    email                   TEXT,
    abilitato               BOOLEAN        NOT NULL DEFAULT TRUE,
    -- argon2id, PHC string format.
    password_hash           TEXT           NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    -- When the operator last chose a password (NULL: never, so a change is due).
    password_cambiata_il    TIMESTAMPTZ(3),
    -- Set when an administrator issues a temporary password.
    cambio_password_obbligatorio BOOLEAN   NOT NULL DEFAULT TRUE,
    tentativi_falliti       INTEGER        NOT NULL DEFAULT 0 CHECK (tentativi_falliti >= 0),
    bloccato_fino           TIMESTAMPTZ(3),
    -- This login and the one before it (shown as "Ultimo accesso").
    ultimo_accesso          TIMESTAMPTZ(3),
    accesso_precedente      TIMESTAMPTZ(3),
    -- AES-256-GCM of the 10-digit pincode (nonce || ciphertext || tag), the user id as AAD.
    pincode_cifrato         BYTEA,
    pincode_generato_il     TIMESTAMPTZ(3),
    creato_il               TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    FOREIGN KEY (codice_regione, codice_asl) REFERENCES asl (codice_regione, codice),
    CHECK (tipo <> 'ASL' OR codice_asl IS NOT NULL)
);
CREATE INDEX utente_asl_idx ON utente (codice_regione, codice_asl);

CREATE TABLE utente_profilo (
    utente_id       BIGINT         NOT NULL REFERENCES utente (id) ON DELETE CASCADE,
    profilo         TEXT           NOT NULL REFERENCES profilo (codice),
    abilitato_il    TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    -- Codice fiscale of the administrator who enabled it (NULL: provisioning).
    abilitato_da    TEXT,
    PRIMARY KEY (utente_id, profilo)
);

-- A CNS (or CIE) authentication certificate registered by its holder ("Registra CNS"); login
-- with a smart card needs the very certificate registered. A new card is registered again.
CREATE TABLE utente_cns (
    fingerprint     TEXT           PRIMARY KEY CHECK (fingerprint ~ '^[0-9a-f]{64}$'),
    utente_id       BIGINT         NOT NULL REFERENCES utente (id) ON DELETE CASCADE,
    seriale         TEXT           NOT NULL,
    emittente       TEXT           NOT NULL,
    soggetto        TEXT           NOT NULL,
    valido_al       TIMESTAMPTZ    NOT NULL,
    registrato_il   TIMESTAMPTZ(3) NOT NULL
);
CREATE INDEX utente_cns_utente_idx ON utente_cns (utente_id);

-- A portal session: the cookie carries a random token, the table its SHA-256. utente_id is NULL
-- until login (the login form needs a CSRF token too); login replaces the row (rotation).
CREATE TABLE sessione (
    token_hash      BYTEA          PRIMARY KEY CHECK (length(token_hash) = 32),
    utente_id       BIGINT         REFERENCES utente (id) ON DELETE CASCADE,
    csrf            TEXT           NOT NULL,
    -- How the operator logged in: CREDENZIALI or CNS.
    modalita        TEXT           CHECK (modalita IN ('CREDENZIALI', 'CNS')),
    -- Logged in, but must change the password before anything else.
    cambio_password BOOLEAN        NOT NULL DEFAULT FALSE,
    -- A message for the "Messaggi" area of the next page.
    messaggio       TEXT,
    creata_il       TIMESTAMPTZ(3) NOT NULL,
    ultimo_uso      TIMESTAMPTZ(3) NOT NULL
);
CREATE INDEX sessione_ultimo_uso_idx ON sessione (ultimo_uso);
CREATE INDEX sessione_utente_idx ON sessione (utente_id);

-- Decree section 2.5: one row per operator transaction on the portal (codice fiscale,
-- timestamp with ms, operation, esito), kept 12 months. codice_fiscale is NULL only when the
-- operator could not be identified (a failed login names what was typed in dettaglio).
CREATE TABLE accesso_operatore (
    id              BIGINT         GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    codice_fiscale  TEXT,
    istante         TIMESTAMPTZ(3) NOT NULL,
    operazione      TEXT           NOT NULL CHECK (operazione ~ '^[A-Z_]+$'),
    esito           TEXT           NOT NULL CHECK (esito ~ '^[A-Z_0-9]+$'),
    indirizzo_ip    INET,
    dettaglio       TEXT
);
CREATE INDEX accesso_operatore_istante_idx ON accesso_operatore (istante);
CREATE INDEX accesso_operatore_cf_idx ON accesso_operatore (codice_fiscale, istante);
