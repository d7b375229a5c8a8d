DROP INDEX assistito_regione_assistenza_idx;
DROP TABLE notifica_trasmissione;
DROP TABLE notifica_prenotazioni;
