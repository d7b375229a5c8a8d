// Diesel table definitions, matching migrations/ (same output as `diesel print-schema`).

diesel::table! {
    regione (codice) {
        codice -> Text,
        denominazione -> Text,
        virtuale -> Bool,
    }
}

diesel::table! {
    asl (codice_regione, codice) {
        codice_regione -> Text,
        codice -> Text,
        denominazione -> Text,
    }
}

diesel::table! {
    assistito (codice_fiscale) {
        codice_fiscale -> Text,
        cognome -> Text,
        nome -> Text,
        regione_assistenza -> Text,
        asl_assistenza -> Nullable<Text>,
        regione_residenza -> Text,
        identificativo_cluster -> Nullable<Text>,
    }
}

diesel::table! {
    tessera_sanitaria (numero) {
        numero -> Text,
        codice_fiscale -> Text,
        data_scadenza -> Date,
        codice_regione -> Text,
        sigla_serie -> Nullable<Text>,
    }
}

diesel::table! {
    chiamante (id) {
        id -> Int8,
        nome -> Text,
        tipo -> Text,
        codice_regione -> Nullable<Text>,
        operazioni -> Array<Text>,
        limite_al_secondo -> Int4,
        limite_raffica -> Int4,
        abilitato -> Bool,
        creato_il -> Timestamptz,
        tessera_obbligatoria -> Bool,
    }
}

diesel::table! {
    chiamante_rete (chiamante_id, rete) {
        chiamante_id -> Int8,
        rete -> Cidr,
    }
}

diesel::table! {
    chiamante_certificato (impronta_sha256) {
        impronta_sha256 -> Text,
        chiamante_id -> Int8,
        seriale -> Text,
        scadenza -> Timestamptz,
        revocato_il -> Nullable<Timestamptz>,
        registrato_il -> Timestamptz,
    }
}

diesel::table! {
    access_log (id, ts_richiesta) {
        id -> Int8,
        ts_richiesta -> Timestamptz,
        identificativo_transazione -> Uuid,
        operazione -> Nullable<Text>,
        chiamante -> Nullable<Text>,
        ip_client -> Inet,
        esito -> Nullable<Text>,
        codice_errore -> Nullable<Text>,
        codice_fiscale -> Nullable<Text>,
        numero_tessera -> Nullable<Text>,
        data_scadenza_tessera -> Nullable<Date>,
        durata_ms -> Nullable<Int4>,
    }
}

diesel::table! {
    prenotazione (id) {
        id -> Int8,
        codice_fiscale -> Text,
        dose -> Int2,
        regione_prenotazione -> Text,
        codice_regione -> Text,
        codice_aic -> Nullable<Text>,
        data_prenotazione -> Date,
        identificativo_transazione -> Uuid,
        aggiornata_il -> Timestamptz,
    }
}

diesel::table! {
    somministrazione (id) {
        id -> Int8,
        codice_fiscale -> Text,
        dose -> Int2,
        regione_somministrazione -> Text,
        codice_regione -> Text,
        codice_aic -> Text,
        data_somministrazione -> Date,
        deroga_sequenza -> Bool,
        identificativo_transazione -> Uuid,
        aggiornata_il -> Timestamptz,
    }
}

diesel::table! {
    notifica_prenotazioni (id) {
        id -> Int8,
        codice_regione -> Text,
        generata_il -> Timestamptz,
        nome_file -> Text,
        numero_record -> Int4,
        sha256 -> Text,
        contenuto -> Bytea,
        automatica -> Bool,
    }
}

diesel::table! {
    notifica_trasmissione (id) {
        id -> Int8,
        notifica_id -> Nullable<Int8>,
        nome_file -> Nullable<Text>,
        tipo -> Text,
        ente -> Nullable<Text>,
        operatore -> Text,
        trasmessa_il -> Timestamptz,
        esito -> Text,
        durata_ms -> Int4,
        dettaglio -> Nullable<Text>,
    }
}

diesel::table! {
    flusso (id) {
        id -> Int8,
        protocollo -> Text,
        identificativo_transazione -> Uuid,
        chiamante -> Text,
        impronta_sha256 -> Text,
        stato -> Text,
        codice_rifiuto -> Nullable<Text>,
        motivo_rifiuto -> Nullable<Text>,
        percorso -> Nullable<Text>,
        contenuto_inizio -> Nullable<Int8>,
        contenuto_lunghezza -> Nullable<Int8>,
        record_letti -> Int8,
        record_totali -> Nullable<Int8>,
        record_scartati -> Nullable<Int8>,
        ricevuto_il -> Timestamptz,
        terminato_il -> Nullable<Timestamptz>,
        tipo -> Text,
        codice_regione -> Nullable<Text>,
    }
}

diesel::table! {
    flusso_errore (flusso_id, posizione, ordine) {
        flusso_id -> Int8,
        posizione -> Int8,
        ordine -> Int2,
        codice -> Text,
    }
}

diesel::table! {
    flusso_record (flusso_id, posizione) {
        flusso_id -> Int8,
        posizione -> Int8,
        tipo_operazione -> Text,
        codice_fiscale -> Text,
        dose -> Int2,
        regione_prenotazione -> Text,
        codice_regione -> Text,
        codice_aic -> Nullable<Text>,
        data_prenotazione -> Date,
    }
}

diesel::table! {
    flusso_tscns_record (flusso_id, posizione) {
        flusso_id -> Int8,
        posizione -> Int8,
        tipo_record -> Text,
        numero_tessera -> Nullable<Text>,
        valido -> Bool,
    }
}

diesel::table! {
    produttore_carta (codice) {
        codice -> Text,
        denominazione -> Text,
    }
}

diesel::table! {
    middleware_carta (produttore, ordine) {
        produttore -> Text,
        ordine -> Int2,
        sistema_operativo -> Text,
        software -> Text,
    }
}

diesel::table! {
    serie_carta (sigla) {
        sigla -> Text,
        produttore -> Text,
        puk_per_rinnovo -> Bool,
    }
}

diesel::table! {
    proroga_scadenza (codice) {
        codice -> Text,
        riferimento -> Text,
        scadenza_dal -> Date,
        scadenza_al -> Date,
        prorogata_al -> Date,
        in_vigore -> Bool,
    }
}

diesel::table! {
    tscns_certificato (numero_tessera) {
        numero_tessera -> Text,
        seriale -> Text,
        emittente -> Text,
        valido_dal -> Date,
        valido_al -> Date,
        data_attivazione -> Date,
        identificativo_transazione -> Uuid,
        registrato_il -> Timestamptz,
    }
}

diesel::table! {
    tscns_revoca (numero_tessera) {
        numero_tessera -> Text,
        motivo -> Text,
        data_revoca -> Date,
        identificativo_transazione -> Uuid,
        registrata_il -> Timestamptz,
    }
}

diesel::table! {
    tscns_rinnovo (numero_tessera, proroga) {
        numero_tessera -> Text,
        proroga -> Text,
        seriale_precedente -> Text,
        seriale_nuovo -> Text,
        scadenza_nuova -> Date,
        identificativo_transazione -> Uuid,
        registrato_il -> Timestamptz,
    }
}

diesel::table! {
    evento_tessera (id) {
        id -> Int8,
        numero_tessera -> Text,
        tipo -> Text,
        data_evento -> Date,
        fonte -> Text,
        caricato_il -> Timestamptz,
    }
}

diesel::table! {
    comunicazione_revoca (id) {
        id -> Int8,
        codice_regione -> Text,
        numero_tessera -> Text,
        codice_fiscale -> Text,
        seriale_certificato -> Text,
        emittente_certificato -> Text,
        motivo -> Text,
        data_evento -> Date,
        evento_id -> Int8,
        creata_il -> Timestamptz,
        confermata_il -> Nullable<Timestamptz>,
        transazione_conferma -> Nullable<Uuid>,
    }
}

diesel::table! {
    fornitura_revoche (id) {
        id -> Int8,
        codice_regione -> Text,
        generata_il -> Timestamptz,
        nome_file -> Text,
        numero_record -> Int4,
        sha256 -> Text,
        contenuto -> Bytea,
    }
}

diesel::table! {
    fornitura_revoche_trasmissione (id) {
        id -> Int8,
        fornitura_id -> Nullable<Int8>,
        nome_file -> Nullable<Text>,
        tipo -> Text,
        ente -> Nullable<Text>,
        operatore -> Text,
        trasmessa_il -> Timestamptz,
        esito -> Text,
        durata_ms -> Int4,
        dettaglio -> Nullable<Text>,
    }
}

// A view (migration 2026-11-28-000001_tscns): one row per card.
diesel::table! {
    tscns_stato_tessera (numero) {
        numero -> Text,
        codice_fiscale -> Text,
        codice_regione -> Text,
        data_scadenza -> Date,
        sigla_serie -> Nullable<Text>,
        puk_per_rinnovo -> Bool,
        seriale -> Nullable<Text>,
        emittente -> Nullable<Text>,
        valido_dal -> Nullable<Date>,
        valido_al -> Nullable<Date>,
        data_attivazione -> Nullable<Date>,
        motivo -> Nullable<Text>,
        data_revoca -> Nullable<Date>,
        seriale_precedente -> Nullable<Text>,
        seriale_nuovo -> Nullable<Text>,
        scadenza_nuova -> Nullable<Date>,
        proroga -> Nullable<Text>,
        prorogata_al -> Nullable<Date>,
    }
}

diesel::table! {
    audit_amministrativo (id) {
        id -> Int8,
        istante -> Timestamptz,
        attore -> Text,
        azione -> Text,
        oggetto -> Nullable<Text>,
        dettaglio -> Nullable<Text>,
        esito -> Nullable<Text>,
        hash_precedente -> Bytea,
        hash -> Bytea,
    }
}

diesel::table! {
    audit_testa (unica) {
        unica -> Bool,
        ultimo_id -> Int8,
        ultimo_hash -> Bytea,
    }
}

diesel::joinable!(assistito -> regione (regione_assistenza));
diesel::joinable!(prenotazione -> assistito (codice_fiscale));
diesel::joinable!(somministrazione -> assistito (codice_fiscale));
diesel::joinable!(tessera_sanitaria -> assistito (codice_fiscale));
diesel::joinable!(chiamante_rete -> chiamante (chiamante_id));
diesel::joinable!(chiamante_certificato -> chiamante (chiamante_id));
diesel::joinable!(notifica_trasmissione -> notifica_prenotazioni (notifica_id));
diesel::joinable!(flusso_errore -> flusso (flusso_id));
diesel::joinable!(flusso_tscns_record -> flusso (flusso_id));
diesel::joinable!(tessera_sanitaria -> serie_carta (sigla_serie));
diesel::joinable!(serie_carta -> produttore_carta (produttore));
diesel::joinable!(middleware_carta -> produttore_carta (produttore));
diesel::joinable!(tscns_certificato -> tessera_sanitaria (numero_tessera));
diesel::joinable!(tscns_revoca -> tessera_sanitaria (numero_tessera));
diesel::joinable!(tscns_rinnovo -> tessera_sanitaria (numero_tessera));
diesel::joinable!(evento_tessera -> tessera_sanitaria (numero_tessera));
diesel::joinable!(comunicazione_revoca -> evento_tessera (evento_id));
diesel::joinable!(fornitura_revoche_trasmissione -> fornitura_revoche (fornitura_id));

diesel::table! {
    profilo (codice) {
        codice -> Text,
        descrizione -> Text,
        voce_menu -> Text,
        percorso -> Text,
        ordine -> Int4,
        assegnabile -> Bool,
    }
}

diesel::table! {
    utente (id) {
        id -> Int8,
        codice_identificativo -> Text,
        codice_fiscale -> Text,
        cognome -> Text,
        nome -> Text,
        data_nascita -> Nullable<Date>,
        sesso -> Nullable<Text>,
        luogo_nascita -> Nullable<Text>,
        provincia_nascita -> Nullable<Text>,
        tipo -> Text,
        codice_regione -> Nullable<Text>,
        codice_asl -> Nullable<Text>,
        indirizzo_lavoro -> Nullable<Text>,
        cap_lavoro -> Nullable<Text>,
        comune_lavoro -> Nullable<Text>,
        provincia_lavoro -> Nullable<Text>,
        telefono -> Nullable<Text>,
        fax -> Nullable<Text>,
        email -> Nullable<Text>,
        abilitato -> Bool,
        password_hash -> Text,
        password_cambiata_il -> Nullable<Timestamptz>,
        cambio_password_obbligatorio -> Bool,
        tentativi_falliti -> Int4,
        bloccato_fino -> Nullable<Timestamptz>,
        ultimo_accesso -> Nullable<Timestamptz>,
        accesso_precedente -> Nullable<Timestamptz>,
        pincode_cifrato -> Nullable<Bytea>,
        pincode_generato_il -> Nullable<Timestamptz>,
        creato_il -> Timestamptz,
        tipo_operatore -> Text,
    }
}

diesel::table! {
    utente_profilo (utente_id, profilo) {
        utente_id -> Int8,
        profilo -> Text,
        abilitato_il -> Timestamptz,
        abilitato_da -> Nullable<Text>,
    }
}

diesel::table! {
    utente_cns (fingerprint) {
        fingerprint -> Text,
        utente_id -> Int8,
        seriale -> Text,
        emittente -> Text,
        soggetto -> Text,
        valido_al -> Timestamptz,
        registrato_il -> Timestamptz,
    }
}

diesel::table! {
    sessione (token_hash) {
        token_hash -> Bytea,
        utente_id -> Nullable<Int8>,
        csrf -> Text,
        modalita -> Nullable<Text>,
        cambio_password -> Bool,
        messaggio -> Nullable<Text>,
        creata_il -> Timestamptz,
        ultimo_uso -> Timestamptz,
        pincode_verificato -> Bool,
        pincode_errori -> Int4,
        captcha -> Nullable<Text>,
        captcha_scade -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    invio_otp (id_transazione) {
        id_transazione -> Uuid,
        codice_fiscale -> Text,
        codice_regione -> Nullable<Text>,
        codice_asl -> Nullable<Text>,
        istante -> Timestamptz,
        otp_sha256 -> Nullable<Text>,
        inizio_sintomi -> Nullable<Date>,
        esito -> Text,
        motivo -> Nullable<Text>,
        durata_ms -> Int4,
    }
}

diesel::table! {
    accesso_operatore (id) {
        id -> Int8,
        codice_fiscale -> Nullable<Text>,
        istante -> Timestamptz,
        operazione -> Text,
        esito -> Text,
        indirizzo_ip -> Nullable<Inet>,
        dettaglio -> Nullable<Text>,
    }
}

diesel::table! {
    otp_autorizzato (sha256) {
        sha256 -> Text,
        inizio_sintomi -> Date,
        autorizzato_il -> Timestamptz,
        scade_il -> Timestamptz,
        usato_il -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(utente_profilo -> utente (utente_id));
diesel::joinable!(utente_profilo -> profilo (profilo));
diesel::joinable!(utente_cns -> utente (utente_id));

diesel::table! {
    tipo_operatore (codice) {
        codice -> Text,
        descrizione -> Text,
        ordine -> Int4,
    }
}

diesel::table! {
    utente_asl (utente_id, codice_regione, codice_asl) {
        utente_id -> Int8,
        codice_regione -> Text,
        codice_asl -> Text,
        ordine -> Int4,
    }
}

diesel::table! {
    sso_fornitore (entity_id) {
        entity_id -> Text,
        acs_url -> Text,
        certificati -> Array<Text>,
        richieste_firmate -> Bool,
        metadata_origine -> Nullable<Text>,
        aggiornato_il -> Timestamptz,
    }
}

diesel::table! {
    sso_piattaforma (codice) {
        codice -> Text,
        abilitata -> Bool,
        sp_entity_id -> Nullable<Text>,
        aggiornato_il -> Timestamptz,
    }
}

diesel::table! {
    sso_piattaforma_tipo (codice, tipo_operatore) {
        codice -> Text,
        tipo_operatore -> Text,
    }
}

diesel::table! {
    sso_richiesta (id) {
        id -> Int8,
        sp_entity_id -> Text,
        request_id -> Text,
        acs_url -> Text,
        relay_state -> Nullable<Text>,
        livello -> Int2,
        forza_autenticazione -> Bool,
        maniglia_hash -> Bytea,
        sessione_token_hash -> Nullable<Bytea>,
        ricevuta_il -> Timestamptz,
        scade_il -> Timestamptz,
        usata_il -> Nullable<Timestamptz>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    regione,
    asl,
    assistito,
    tessera_sanitaria,
    chiamante,
    chiamante_rete,
    chiamante_certificato,
    access_log,
    prenotazione,
    somministrazione,
    notifica_prenotazioni,
    notifica_trasmissione,
    flusso,
    flusso_tscns_record,
    flusso_errore,
    flusso_record,
    produttore_carta,
    middleware_carta,
    serie_carta,
    proroga_scadenza,
    tscns_certificato,
    tscns_revoca,
    tscns_rinnovo,
    evento_tessera,
    comunicazione_revoca,
    fornitura_revoche,
    fornitura_revoche_trasmissione,
    profilo,
    utente,
    utente_profilo,
    utente_cns,
    sessione,
    accesso_operatore,
    audit_amministrativo,
    audit_testa,
    otp_autorizzato,
    invio_otp,
    tipo_operatore,
    utente_asl,
    sso_fornitore,
    sso_piattaforma,
    sso_piattaforma_tipo,
    sso_richiesta,
);
