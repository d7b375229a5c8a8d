DROP TABLE audit_testa;
DROP TABLE audit_amministrativo;
