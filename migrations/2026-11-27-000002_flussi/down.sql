DROP TABLE flusso_record;
DROP TABLE flusso_errore;
DROP TABLE flusso;
DROP SEQUENCE flusso_protocollo_seq;
