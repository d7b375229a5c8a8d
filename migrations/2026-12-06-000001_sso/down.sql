DROP TABLE sso_richiesta;
DROP TABLE sso_piattaforma_tipo;
DROP TABLE sso_piattaforma;
DROP TABLE sso_fornitore;
DELETE FROM utente_profilo WHERE profilo = 'VACCINAZIONI_SSO';
DELETE FROM profilo WHERE codice = 'VACCINAZIONI_SSO';
DROP TABLE utente_asl;
ALTER TABLE utente DROP COLUMN tipo_operatore;
DROP TABLE tipo_operatore;
