ALTER TABLE access_log DROP CONSTRAINT access_log_esito_o_errore;
DELETE FROM access_log WHERE esito IS NULL AND codice_errore IS NULL;
ALTER TABLE access_log ADD CONSTRAINT access_log_check
    CHECK ((esito IS NULL) <> (codice_errore IS NULL));
ALTER TABLE chiamante DROP COLUMN tessera_obbligatoria;
DROP TABLE somministrazione;
DROP TABLE prenotazione;
