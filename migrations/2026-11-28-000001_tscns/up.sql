-- TS-CNS services for the regional Card Management Systems (seed 000): the region each card was
-- issued for, the card series with their middleware (seed 000) and the expiry extension rules
-- (seed 001) as reference data, and the state the CMS report: the active authentication
-- certificate of a card, its revocation, and the renewal of an extended card's certificate.

-- The region a card was issued for: a CMS acts only on its own region's cards. A card inserted
-- without it takes its holder's assistance region.
ALTER TABLE tessera_sanitaria ADD COLUMN codice_regione TEXT REFERENCES regione (codice);
UPDATE tessera_sanitaria t SET codice_regione = a.regione_assistenza
    FROM assistito a WHERE a.codice_fiscale = t.codice_fiscale;
ALTER TABLE tessera_sanitaria ALTER COLUMN codice_regione SET NOT NULL;

CREATE FUNCTION tessera_sanitaria_regione_default() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.codice_regione IS NULL THEN
        SELECT regione_assistenza INTO NEW.codice_regione
        FROM assistito WHERE codice_fiscale = NEW.codice_fiscale;
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER tessera_sanitaria_regione_default BEFORE INSERT ON tessera_sanitaria
    FOR EACH ROW EXECUTE FUNCTION tessera_sanitaria_regione_default();

-- Card manufacturers and the card-management software per operating system (seed 000).
CREATE TABLE produttore_carta (
    codice          TEXT PRIMARY KEY CHECK (codice ~ '^[A-Z]+$'),
    denominazione   TEXT NOT NULL
);

CREATE TABLE middleware_carta (
    produttore          TEXT     NOT NULL REFERENCES produttore_carta (codice),
    ordine              SMALLINT NOT NULL,
    sistema_operativo   TEXT     NOT NULL,
    software            TEXT     NOT NULL,
    PRIMARY KEY (produttore, ordine)
);

-- Card series ("SIGLA" printed on the front of the card). puk_per_rinnovo: the certificate
-- extension asks for the PUK besides the PIN (seed 001, step 11).
CREATE TABLE serie_carta (
    sigla           TEXT    PRIMARY KEY CHECK (sigla ~ '^[A-Za-z]{2,3}[0-9]{4}$'),
    produttore      TEXT    NOT NULL REFERENCES produttore_carta (codice),
    puk_per_rinnovo BOOLEAN NOT NULL DEFAULT FALSE
);

INSERT INTO produttore_carta (codice, denominazione) VALUES
    ('ACTALIS', 'ACTALIS OBERTHUR- IDEMIA'),
    ('STM', 'STMICROELECTRONICS');

INSERT INTO middleware_carta (produttore, ordine, sistema_operativo, software) VALUES
    ('ACTALIS', 1, 'WINDOWS', 'bit4id_xpki_1.4.10.647-ng-idemia-crtmgr.exe'),
    ('ACTALIS', 2, 'macOS', 'bit4id-middleware-idemia-pkiman3-1.4.10.704.zip'),
    ('ACTALIS', 3, 'LINUX', 'libbit4xpki-idemia-amd64.1.4.10-622.deb'),
    ('ACTALIS', 4, 'LINUX 32bit - UBUNTU', 'libbit4xpki-idemia-i386.1.4.10-647.deb'),
    ('ACTALIS', 5, 'LINUX 32bit - RED HAT', 'libbit4xpki-1.4.10-647-idemia.i386.rpm'),
    ('ACTALIS', 6, 'EXTEND SOGEI ACT', 'extend sogei act.zip'),
    ('STM', 1, 'WINDOWS', 'SafeDive2022_setup.exe ver 4.6.1'),
    ('STM', 2, 'WINDOWS 32bit', 'SafeDive2022_setup_x32.exe ver. 4.6'),
    ('STM', 3, 'macOS', 'SafeDive2022.pkg'),
    ('STM', 4, 'LINUX 64bit', 'SafeDive2022.zip ver. 4.6'),
    ('STM', 5, 'LINUX 32bit', 'SafeDive2022.zip ver. 4.6'),
    ('STM', 6, 'EXTEND SOGEI STM', 'extend sogei stm.zip');

INSERT INTO serie_carta (sigla, produttore, puk_per_rinnovo) VALUES
    ('AC2013', 'ACTALIS', TRUE), ('AC2014', 'ACTALIS', TRUE), ('AC2018', 'ACTALIS', TRUE),
    ('ACx2021', 'ACTALIS', FALSE), ('ACe2021', 'ACTALIS', FALSE),
    ('OT2015', 'ACTALIS', FALSE), ('OT2016', 'ACTALIS', FALSE), ('ID2019', 'ACTALIS', FALSE),
    ('ST2021', 'STM', FALSE);

ALTER TABLE tessera_sanitaria ADD COLUMN sigla_serie TEXT REFERENCES serie_carta (sigla);

-- Expiry extensions: a card whose printed expiry falls in [scadenza_dal, scadenza_al] (and is
-- before prorogata_al) is valid until prorogata_al, and its certificate may be renewed while
-- the rule is in force (in_vigore: the operator turns a rule off; dates alone do not).
CREATE TABLE proroga_scadenza (
    codice          TEXT    PRIMARY KEY CHECK (codice ~ '^[A-Z0-9_-]{1,20}$'),
    riferimento     TEXT    NOT NULL,
    scadenza_dal    DATE    NOT NULL,
    scadenza_al     DATE    NOT NULL,
    prorogata_al    DATE    NOT NULL,
    in_vigore       BOOLEAN NOT NULL DEFAULT TRUE,
    CHECK (scadenza_dal <= scadenza_al AND scadenza_al <= prorogata_al)
);

INSERT INTO proroga_scadenza (codice, riferimento, scadenza_dal, scadenza_al, prorogata_al) VALUES
    ('DL9-2020', 'Art. 12 comma 1 DL n. 9 del 2 marzo 2020: tessere in scadenza dal 01/01/2020 al 30/06/2020 prorogate al 30/06/2020',
     '2020-01-01', '2020-06-30', '2020-06-30'),
    ('PROROGA-2023', 'TS-CNS con scadenza prorogata al 31 dicembre 2023',
     '2020-07-01', '2023-12-30', '2023-12-31');

-- The active authentication certificate of a card, as the CMS reported its activation. One per
-- card; a renewal replaces serial and validity (the previous serial stays in tscns_rinnovo).
CREATE TABLE tscns_certificato (
    numero_tessera              TEXT    PRIMARY KEY REFERENCES tessera_sanitaria (numero),
    -- Canonical: upper-case hex without leading zeros.
    seriale                     TEXT    NOT NULL CHECK (seriale ~ '^(0|[1-9A-F][0-9A-F]{0,39})$'),
    emittente                   TEXT    NOT NULL
                                CHECK (char_length(emittente) BETWEEN 1 AND 255 AND emittente !~ '[[:cntrl:]]'),
    valido_dal                  DATE    NOT NULL,
    valido_al                   DATE    NOT NULL,
    data_attivazione            DATE    NOT NULL,
    -- The transaction (web service) or the bulk file that wrote the row last.
    identificativo_transazione  UUID    NOT NULL,
    registrato_il               TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    CHECK (valido_dal <= valido_al)
);
-- A certificate is active on one card at most.
CREATE UNIQUE INDEX tscns_certificato_emittente_seriale ON tscns_certificato (emittente, seriale);

-- A revoked card: it can no longer be activated.
CREATE TABLE tscns_revoca (
    numero_tessera              TEXT    PRIMARY KEY REFERENCES tessera_sanitaria (numero),
    motivo                      TEXT    NOT NULL CHECK (motivo IN
                                ('furto', 'smarrimento', 'deterioramento', 'decesso', 'sostituzione', 'altro')),
    data_revoca                 DATE    NOT NULL,
    identificativo_transazione  UUID    NOT NULL,
    registrata_il               TIMESTAMPTZ(3) NOT NULL DEFAULT now()
);

-- The renewal of the certificate of an extended card (seed 001): once per card and rule (a
-- rule added later may extend a renewed card again).
CREATE TABLE tscns_rinnovo (
    numero_tessera              TEXT    NOT NULL REFERENCES tessera_sanitaria (numero),
    proroga                     TEXT    NOT NULL REFERENCES proroga_scadenza (codice),
    seriale_precedente          TEXT    NOT NULL CHECK (seriale_precedente ~ '^(0|[1-9A-F][0-9A-F]{0,39})$'),
    seriale_nuovo               TEXT    NOT NULL CHECK (seriale_nuovo ~ '^(0|[1-9A-F][0-9A-F]{0,39})$'),
    scadenza_nuova              DATE    NOT NULL,
    identificativo_transazione  UUID    NOT NULL,
    registrato_il               TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    PRIMARY KEY (numero_tessera, proroga),
    CHECK (seriale_nuovo <> seriale_precedente)
);

-- Everything the TS-CNS rules need about one card, in one row: its series, active certificate,
-- revocation, the rule in force that extends it (the latest, when several do) and its renewal
-- under that rule. Read by `services::tscns::repo::stato` with `WHERE numero = $1`, which the
-- planner pushes down to the card's primary key.
CREATE VIEW tscns_stato_tessera AS
SELECT t.numero, t.codice_fiscale, t.codice_regione, t.data_scadenza, t.sigla_serie,
       coalesce(s.puk_per_rinnovo, false) AS puk_per_rinnovo,
       c.seriale, c.emittente, c.valido_dal, c.valido_al, c.data_attivazione,
       r.motivo, r.data_revoca,
       n.seriale_precedente, n.seriale_nuovo, n.scadenza_nuova,
       p.codice AS proroga, p.prorogata_al
FROM tessera_sanitaria t
LEFT JOIN serie_carta s ON s.sigla = t.sigla_serie
LEFT JOIN tscns_certificato c ON c.numero_tessera = t.numero
LEFT JOIN tscns_revoca r ON r.numero_tessera = t.numero
LEFT JOIN LATERAL (
    SELECT codice, prorogata_al FROM proroga_scadenza
    WHERE in_vigore AND t.data_scadenza BETWEEN scadenza_dal AND scadenza_al
      AND prorogata_al > t.data_scadenza
    ORDER BY prorogata_al DESC, codice
    LIMIT 1
) p ON true
LEFT JOIN tscns_rinnovo n ON n.numero_tessera = t.numero AND n.proroga = p.codice;
