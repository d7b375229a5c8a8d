-- The log rows of section 6.5 without esito are kept (12 months by law): the former check
-- comes back for new rows only.
ALTER TABLE access_log DROP CONSTRAINT access_log_esito_o_errore;
ALTER TABLE access_log ADD CONSTRAINT access_log_check
    CHECK ((esito IS NULL) <> (codice_errore IS NULL)) NOT VALID;
ALTER TABLE chiamante DROP COLUMN tessera_obbligatoria;
DROP TABLE somministrazione;
DROP TABLE prenotazione;
