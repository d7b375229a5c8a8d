-- The TS-CNS files go (with their errors and records, by cascade): without `tipo` they would
-- read as booking files. The booking files and everything they wrote stay.
DROP TABLE flusso_tscns_record;
DELETE FROM flusso WHERE tipo = 'TSCNS';
ALTER TABLE flusso
    DROP CONSTRAINT flusso_tscns_regione,
    DROP COLUMN codice_regione,
    DROP COLUMN tipo;
