DROP TABLE accesso_operatore;
DROP TABLE sessione;
DROP TABLE utente_cns;
DROP TABLE utente_profilo;
DROP TABLE utente;
DROP TABLE profilo;
