-- Operator SSO to the regional vaccination platforms and the Piattaforma Nazionale (decree
-- annex A §2, issue 13): operator types as data, the ASLs an operator works in, the profile
-- that entitles to the service, the enrolment of regions and of the PN with their SAML
-- service providers, and the AuthnRequests received (replay defence and the pending flow).

-- §2.4: the types of operator a platform may accept.
CREATE TABLE tipo_operatore (
    codice          TEXT    PRIMARY KEY CHECK (codice ~ '^[A-Z_]+$'),
    descrizione     TEXT    NOT NULL,
    ordine          INTEGER NOT NULL
);
INSERT INTO tipo_operatore (codice, descrizione, ordine) VALUES
    ('MEDICO', 'Medico', 10),
    ('ODONTOIATRA', 'Odontoiatra', 20),
    ('FARMACISTA', 'Farmacista', 30),
    ('INFERMIERE', 'Infermiere', 40),
    ('ASSISTENTE_SANITARIO', 'Assistente sanitario', 50),
    ('PROFESSIONISTA_SANITARIO', 'Professionista sanitario', 60),
    ('PERSONALE_ASL_REGIONE', 'Personale ASL/Regione', 70);

-- utente.tipo stays the portal's own classification (who gets the CNS credentials letter);
-- tipo_operatore is what the platforms see.
ALTER TABLE utente ADD COLUMN tipo_operatore TEXT REFERENCES tipo_operatore (codice);
UPDATE utente SET tipo_operatore = CASE tipo
    WHEN 'MEDICO' THEN 'MEDICO'
    WHEN 'PROFESSIONISTA' THEN 'PROFESSIONISTA_SANITARIO'
    ELSE 'PERSONALE_ASL_REGIONE' END;
ALTER TABLE utente ALTER COLUMN tipo_operatore SET NOT NULL;

-- §2.3: an operator may work in several ASLs; utente.codice_asl is the first of them.
CREATE TABLE utente_asl (
    utente_id       BIGINT  NOT NULL REFERENCES utente (id) ON DELETE CASCADE,
    codice_regione  TEXT    NOT NULL,
    codice_asl      TEXT    NOT NULL,
    ordine          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (utente_id, codice_regione, codice_asl),
    FOREIGN KEY (codice_regione, codice_asl) REFERENCES asl (codice_regione, codice)
);
INSERT INTO utente_asl (utente_id, codice_regione, codice_asl, ordine)
    SELECT id, codice_regione, codice_asl, 0 FROM utente
    WHERE codice_regione IS NOT NULL AND codice_asl IS NOT NULL;

INSERT INTO profilo (codice, descrizione, voce_menu, percorso, ordine, assegnabile) VALUES
    ('VACCINAZIONI_SSO', 'Vaccinazioni anti SARS-CoV-2 — prenotazione e somministrazione',
        'Vaccinazioni anti SARS-CoV-2', '/servizi/vaccinazioni', 30, TRUE);

-- A SAML service provider: a region's own platform, or the Piattaforma Nazionale's.
CREATE TABLE sso_fornitore (
    entity_id           TEXT           PRIMARY KEY
                        CHECK (entity_id <> '' AND length(entity_id) <= 1024),
    acs_url             TEXT           NOT NULL CHECK (acs_url ~ '^https://'),
    -- The SP's signing certificates (PEM), more than one during a key rollover.
    certificati         TEXT[]         NOT NULL CHECK (cardinality(certificati) >= 1),
    -- Whether its AuthnRequests must be signed (the default; an unsigned one is refused).
    richieste_firmate   BOOLEAN        NOT NULL DEFAULT TRUE,
    -- Where its SAML metadata came from (file or URL), when it was loaded from metadata.
    metadata_origine    TEXT,
    aggiornato_il       TIMESTAMPTZ(3) NOT NULL
);

-- Where operators may be sent: a region (real or virtual, by its code) or the PN itself
-- ('PN'). A region without its own SP (sp_entity_id NULL) uses the PN; virtual regions always
-- do. Not enrolled, or abilitata false: operators are not sent there.
CREATE TABLE sso_piattaforma (
    codice          TEXT           PRIMARY KEY CHECK (codice = 'PN' OR codice ~ '^[0-9]{3}$'),
    abilitata       BOOLEAN        NOT NULL,
    sp_entity_id    TEXT           REFERENCES sso_fornitore (entity_id),
    aggiornato_il   TIMESTAMPTZ(3) NOT NULL,
    CHECK (codice <> 'PN' OR sp_entity_id IS NOT NULL)
);

-- The operator types a platform accepts.
CREATE TABLE sso_piattaforma_tipo (
    codice          TEXT NOT NULL REFERENCES sso_piattaforma (codice) ON DELETE CASCADE,
    tipo_operatore  TEXT NOT NULL REFERENCES tipo_operatore (codice),
    PRIMARY KEY (codice, tipo_operatore)
);

-- An AuthnRequest accepted from an SP: its ID is accepted once per SP (replay), and it waits
-- here, bound to the portal session that continues it, until the Response is sent.
CREATE TABLE sso_richiesta (
    id                  BIGINT         GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sp_entity_id        TEXT           NOT NULL,
    request_id          TEXT           NOT NULL CHECK (length(request_id) BETWEEN 1 AND 256),
    acs_url             TEXT           NOT NULL,
    relay_state         TEXT           CHECK (length(relay_state) <= 80),
    -- SpidL level asked with comparison minimum (1 when not asked).
    livello             SMALLINT       NOT NULL CHECK (livello BETWEEN 1 AND 3),
    -- ForceAuthn: the operator logs in again even with a live session.
    forza_autenticazione BOOLEAN       NOT NULL DEFAULT FALSE,
    -- SHA-256 of the random handle of the continue link (the browser carries the handle).
    maniglia_hash       BYTEA          NOT NULL UNIQUE CHECK (length(maniglia_hash) = 32),
    sessione_token_hash BYTEA          REFERENCES sessione (token_hash) ON DELETE SET NULL,
    ricevuta_il         TIMESTAMPTZ(3) NOT NULL,
    scade_il            TIMESTAMPTZ(3) NOT NULL,
    usata_il            TIMESTAMPTZ(3),
    UNIQUE (sp_entity_id, request_id)
);
CREATE INDEX sso_richiesta_sessione_idx ON sso_richiesta (sessione_token_hash);
CREATE INDEX sso_richiesta_ricevuta_idx ON sso_richiesta (ricevuta_il);
