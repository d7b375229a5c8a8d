-- Back to the dynamic statements of 2026-12-07-000001_monitoraggio.
-- TG_ARGV[0]: the kind (PRENOTAZIONE, SOMMINISTRAZIONE); TG_ARGV[1]: its region column.
CREATE OR REPLACE FUNCTION mon_vaccinazioni_conta() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
DECLARE
    giorno DATE := (now() AT TIME ZONE 'Europe/Rome')::DATE;
    canale TEXT := CASE current_setting('tsgate.canale', TRUE) WHEN 'FLUSSO' THEN 'FLUSSO' ELSE 'WS' END;
BEGIN
    IF TG_OP = 'INSERT' THEN
        EXECUTE format('INSERT INTO mon_vaccinazioni (giorno, tipo, regione, canale, operazione, numero)
                        SELECT $1, $2, %I, $3, ''INSERIMENTO'', count(*) FROM nuove GROUP BY 3',
                       TG_ARGV[1])
            USING giorno, TG_ARGV[0], canale;
    ELSIF TG_OP = 'UPDATE' THEN
        -- A transmitted change sets the row's transaction; an update that keeps it (bookkeeping,
        -- such as the sequence exception of the next dose) is not a transmission.
        EXECUTE format('INSERT INTO mon_vaccinazioni (giorno, tipo, regione, canale, operazione, numero)
                        SELECT $1, $2, n.%I, $3, ''VARIAZIONE'', count(*)
                        FROM nuove n JOIN vecchie o ON o.id = n.id
                        WHERE o.identificativo_transazione IS DISTINCT FROM n.identificativo_transazione
                        GROUP BY 3',
                       TG_ARGV[1])
            USING giorno, TG_ARGV[0], canale;
    ELSE
        EXECUTE format('INSERT INTO mon_vaccinazioni (giorno, tipo, regione, canale, operazione, numero)
                        SELECT $1, $2, %I, $3, ''CANCELLAZIONE'', count(*) FROM vecchie GROUP BY 3',
                       TG_ARGV[1])
            USING giorno, TG_ARGV[0], canale;
    END IF;
    RETURN NULL;
END;
$$;

