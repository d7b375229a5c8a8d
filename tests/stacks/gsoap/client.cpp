// The gSOAP client of the integrator tests (tests/stack_gsoap.rs), built by build.sh from the
// proxies soapcpp2 generates for the 11 WSDLs of the bundle.
//
//   client BASE_URL CA_PEM OPERATION=CALLER_CERT+KEY_PEM ...
//
// For each operation, in the order given: one call with the valid data of
// fixtures/requests/<OPERATION>.xml (dates as struct tm, gSOAP's xs:date mapping), then one
// request breaking a facet of the schema (gSOAP does not check what it sends), expecting a Client
// fault whose typed detail (SOAP_ENV__Detail::err__erroreGateway) carries the TSG code. Mutual
// TLS with the caller's certificate and key in one PEM; responses are read with SOAP_XML_STRICT
// (lengths, ranges, enumerations, occurrences, required elements, unknown elements) and the
// schema patterns checked through gSOAP's fsvalidate hook (std::regex). Prints one JSON line:
// {"valid": {...}, "faults": {...}, "date_sul_filo": {...}, "validazione": {...}}.

#include "soapH.h"
#include "soapattivazioneTSCNSBindingProxy.h"
#include "soapconfermaRevocheBindingProxy.h"
#include "soapelencoRevocheBindingProxy.h"
#include "soapelencoSerieCarteBindingProxy.h"
#include "soapregistraRinnovoCertificatoBindingProxy.h"
#include "soaprevocaTSCNSBindingProxy.h"
#include "soaptrasmissionePrenotazioneBindingProxy.h"
#include "soaptrasmissioneSomministrazioneBindingProxy.h"
#include "soapverificaAssistitoFuoriRegioneBindingProxy.h"
#include "soapverificaRinnovoCertificatoBindingProxy.h"
#include "soapverificaSomministrazioniBindingProxy.h"
#include "tsgate.nsmap"

#include <cstdio>
#include <ctime>
#include <iostream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

// ---- minimal JSON output -------------------------------------------------------------------

static std::string q(const std::string &s) {
  std::string o = "\"";
  for (unsigned char c : s) {
    switch (c) {
    case '"': o += "\\\""; break;
    case '\\': o += "\\\\"; break;
    case '\n': o += "\\n"; break;
    case '\r': o += "\\r"; break;
    case '\t': o += "\\t"; break;
    default:
      if (c < 0x20) {
        char b[8];
        snprintf(b, sizeof b, "\\u%04x", c);
        o += b;
      } else {
        o += (char)c;
      }
    }
  }
  return o + "\"";
}

struct Obj {
  std::vector<std::pair<std::string, std::string>> kv;
  Obj &raw(const std::string &k, const std::string &json) {
    kv.emplace_back(k, json);
    return *this;
  }
  Obj &s(const std::string &k, const std::string &v) { return raw(k, q(v)); }
  Obj &s(const std::string &k, const char *v) { return v ? raw(k, q(v)) : raw(k, "null"); }
  Obj &b(const std::string &k, bool v) { return raw(k, v ? "true" : "false"); }
  Obj &n(const std::string &k, long long v) { return raw(k, std::to_string(v)); }
  Obj &o(const std::string &k, const Obj &v) { return raw(k, v.str()); }
  std::string str() const {
    std::string r = "{";
    for (size_t i = 0; i < kv.size(); i++)
      r += (i ? "," : "") + q(kv[i].first) + ":" + kv[i].second;
    return r + "}";
  }
};

static std::string arr(const std::vector<std::string> &items) {
  std::string r = "[";
  for (size_t i = 0; i < items.size(); i++)
    r += (i ? "," : "") + items[i];
  return r + "]";
}

// ---- dates ---------------------------------------------------------------------------------

static struct tm data(int y, int m, int d) {
  struct tm t = {};
  t.tm_year = y - 1900;
  t.tm_mon = m - 1;
  t.tm_mday = d;
  return t;
}

static std::string iso(const struct tm &t) {
  char b[32];
  strftime(b, sizeof b, "%Y-%m-%d", &t);
  return b;
}

// ---- gSOAP error names ---------------------------------------------------------------------

static std::string nome_errore(int e) {
  switch (e) {
  case SOAP_OK: return "SOAP_OK";
  case SOAP_CLI_FAULT: return "SOAP_CLI_FAULT";
  case SOAP_SVR_FAULT: return "SOAP_SVR_FAULT";
  case SOAP_TAG_MISMATCH: return "SOAP_TAG_MISMATCH";
  case SOAP_TYPE: return "SOAP_TYPE";
  case SOAP_SYNTAX_ERROR: return "SOAP_SYNTAX_ERROR";
  case SOAP_NO_TAG: return "SOAP_NO_TAG";
  case SOAP_NAMESPACE: return "SOAP_NAMESPACE";
  case SOAP_FAULT: return "SOAP_FAULT";
  case SOAP_EOF: return "SOAP_EOF";
  case SOAP_SSL_ERROR: return "SOAP_SSL_ERROR";
  case SOAP_TCP_ERROR: return "SOAP_TCP_ERROR";
  case SOAP_HTTP_ERROR: return "SOAP_HTTP_ERROR";
  case SOAP_OCCURS: return "SOAP_OCCURS";
  case SOAP_LENGTH: return "SOAP_LENGTH";
  case SOAP_PATTERN: return "SOAP_PATTERN";
  case SOAP_DUPLICATE_ID: return "SOAP_DUPLICATE_ID";
  case SOAP_MISSING_ID: return "SOAP_MISSING_ID";
  default: return "gSOAP error " + std::to_string(e);
  }
}

// ---- pattern facets: gSOAP hands them to soap->fsvalidate, which it leaves unset -------------

static long pattern_verificati = 0;
static std::vector<std::string> pattern_falliti;

static int valida_pattern(struct soap *soap, const char *pattern, const char *valore) {
  static std::map<std::string, std::regex> compilati;
  if (!pattern || !valore)
    return SOAP_OK;
  auto it = compilati.find(pattern);
  if (it == compilati.end())
    it = compilati.emplace(pattern, std::regex(pattern, std::regex::ECMAScript)).first;
  pattern_verificati++;
  // An XSD pattern matches the whole value: regex_match, not regex_search.
  if (std::regex_match(valore, it->second))
    return SOAP_OK;
  pattern_falliti.push_back(std::string(valore) + " !~ " + pattern);
  return soap->error = SOAP_PATTERN;
}

// ---- the request on the wire: every byte sent goes through fsend ---------------------------

struct Traccia {
  int (*fsend)(struct soap *, const char *, size_t);
  std::string inviato;
};

static int traccia_fsend(struct soap *soap, const char *s, size_t n) {
  Traccia *t = (Traccia *)soap->user;
  t->inviato.append(s, n);
  return t->fsend(soap, s, n);
}

// The xs:date elements of the last valid request, as gSOAP wrote them.
static std::map<std::string, std::string> date_sul_filo;

static void annota_date(const std::string &op, const std::string &xml) {
  static const std::regex re("<[A-Za-z0-9_]+:(data[A-Za-z]*)>([^<]*)<");
  for (auto i = std::sregex_iterator(xml.begin(), xml.end(), re); i != std::sregex_iterator(); ++i)
    date_sul_filo[op + "." + (*i)[1].str()] = (*i)[2].str();
}

// ---- one soap context per operation, with its caller's certificate ------------------------

static std::string base_url, ca_file;
static std::vector<std::pair<std::string, std::string>> operazioni; // (operation, PEM)
static std::map<std::string, std::string> valid, faults;

static const soap_mode MODO_IN = SOAP_XML_STRICT | SOAP_C_UTFSTRING;
static const soap_mode MODO_OUT = SOAP_C_UTFSTRING;

struct Contesto {
  struct soap *soap;
  std::string endpoint;
  Traccia traccia;
  explicit Contesto(const std::string &op) {
    std::string pem;
    for (auto &p : operazioni)
      if (p.first == op)
        pem = p.second;
    if (pem.empty()) {
      fprintf(stderr, "no certificate given for %s\n", op.c_str());
      exit(2);
    }
    soap = soap_new2(MODO_IN, MODO_OUT);
    soap->fsvalidate = valida_pattern;
    // Mutual TLS: the server's certificate checked against the test CA (and its host name),
    // ours from the combined certificate+key PEM.
    if (soap_ssl_client_context(soap, SOAP_SSL_DEFAULT, pem.c_str(), NULL, ca_file.c_str(), NULL,
                                NULL)) {
      soap_print_fault(soap, stderr);
      exit(2);
    }
    traccia.fsend = soap->fsend;
    soap->user = &traccia;
    soap->fsend = traccia_fsend;
    endpoint = base_url + "/ws/" + op;
  }
  ~Contesto() {
    soap_destroy(soap);
    soap_end(soap);
    soap_free(soap);
  }
};

// What a failed call left: the fault (with the typed detail when there is one) or the error.
static Obj guasto(struct soap *soap, int rc) {
  Obj o;
  o.s("errore", nome_errore(rc));
  if (soap->fault) {
    o.s("faultcode", soap->fault->faultcode).s("faultstring", soap->fault->faultstring);
    SOAP_ENV__Detail *d = soap->fault->detail;
    if (d && d->err__erroreGateway) {
      o.s("codice", d->err__erroreGateway->codice)
          .s("descrizione", d->err__erroreGateway->descrizione)
          .s("identificativoTransazione", d->err__erroreGateway->identificativoTransazione);
    }
  }
  if (rc != SOAP_FAULT) {
    char buf[1024];
    o.s("messaggio", soap_sprint_fault(soap, buf, sizeof buf));
  }
  return o;
}

template <class R> static Obj ricevuta(struct soap *soap, const R &r, const char *esito) {
  Obj o;
  o.s("identificativoTransazione", r.identificativoTransazione)
      .s("esito", esito)
      .s("descrizioneEsito", r.descrizioneEsito);
  (void)soap;
  return o;
}

static std::string messaggi(const std::vector<td__messaggioType *> &v) {
  std::vector<std::string> items;
  for (auto *m : v)
    items.push_back(Obj().s("codice", m->codice).s("descrizione", m->descrizione).str());
  return arr(items);
}

template <class L> static void errori(Obj &o, L *lista) {
  if (lista)
    o.raw("listaErrori", messaggi(lista->errore));
}

static std::string esito(struct soap *soap, enum td__esitoTrasmissioneType e) {
  return soap_td__esitoTrasmissioneType2s(soap, e);
}
static std::string esito(struct soap *soap, enum td__esitoType e) {
  return soap_td__esitoType2s(soap, e);
}

// One operation: the valid call, then the invalid one (`rompi` breaks the request).
template <class Proxy, class Req, class Res, class Call, class Print, class Break>
static void opera(const std::string &op, Req &rq, Call chiama, Print stampa, Break rompi) {
  Contesto c(op);
  Proxy p(c.soap, c.endpoint.c_str());
  {
    Res rs;
    c.traccia.inviato.clear();
    int rc = chiama(p, &rq, rs);
    annota_date(op, c.traccia.inviato);
    valid[op] = rc == SOAP_OK ? stampa(c.soap, rs).str() : guasto(c.soap, rc).str();
    soap_destroy(c.soap);
    soap_end(c.soap);
  }
  rompi(rq);
  {
    Res rs;
    int rc = chiama(p, &rq, rs);
    faults[op] = rc == SOAP_OK ? Obj().s("inatteso", "answered " + esito(c.soap, rs.esito)).str()
                               : guasto(c.soap, rc).str();
    soap_destroy(c.soap);
    soap_end(c.soap);
  }
}

// ---- the 11 operations, with the data of fixtures/requests ---------------------------------

static void attivazione() {
  _at__AttivazioneTSCNSRichiesta rq;
  rq.codiceFiscale = "RSSMRA60C15F205L";
  rq.numeroTessera = "80380030000000000001";
  rq.serialeCertificato = "1A2B3C4D5E6F";
  rq.emittenteCertificato = "CN=CA Regione Lombardia TS-CNS,O=Regione Lombardia,C=IT";
  rq.dataInizioValidita = data(2024, 7, 1);
  rq.dataFineValidita = data(2027, 6, 30);
  rq.dataAttivazione = data(2024, 7, 15);
  opera<attivazioneTSCNSBindingProxy, _at__AttivazioneTSCNSRichiesta, _at__AttivazioneTSCNSRicevuta>(
      "AttivazioneTSCNS", rq,
      [](attivazioneTSCNSBindingProxy &p, _at__AttivazioneTSCNSRichiesta *r,
         _at__AttivazioneTSCNSRicevuta &s) { return p.AttivazioneTSCNS(r, s); },
      [](struct soap *soap, _at__AttivazioneTSCNSRicevuta &r) {
        Obj o = ricevuta(soap, r, esito(soap, r.esito).c_str());
        errori(o, r.listaErrori);
        return o;
      },
      // The pattern wants upper case.
      [](_at__AttivazioneTSCNSRichiesta &r) { r.codiceFiscale = "rssmra60c15f205l"; });
}

static void revoca() {
  _rt__RevocaTSCNSRichiesta rq;
  rq.numeroTessera = "80380030000000000018";
  rq.motivo = td__motivoRevocaType__deterioramento;
  rq.dataRevoca = data(2026, 11, 20);
  opera<revocaTSCNSBindingProxy, _rt__RevocaTSCNSRichiesta, _rt__RevocaTSCNSRicevuta>(
      "RevocaTSCNS", rq,
      [](revocaTSCNSBindingProxy &p, _rt__RevocaTSCNSRichiesta *r, _rt__RevocaTSCNSRicevuta &s) {
        return p.RevocaTSCNS(r, s);
      },
      [](struct soap *soap, _rt__RevocaTSCNSRicevuta &r) {
        Obj o = ricevuta(soap, r, esito(soap, r.esito).c_str());
        errori(o, r.listaErrori);
        return o;
      },
      // 19 digits: the length is 20.
      [](_rt__RevocaTSCNSRichiesta &r) { r.numeroTessera = "8038003000000000001"; });
}

static std::string sigla_invalida = "A1";

static void elenco_serie() {
  _esc__ElencoSerieCarteRichiesta rq;
  opera<elencoSerieCarteBindingProxy, _esc__ElencoSerieCarteRichiesta,
        _esc__ElencoSerieCarteRicevuta>(
      "ElencoSerieCarte", rq,
      [](elencoSerieCarteBindingProxy &p, _esc__ElencoSerieCarteRichiesta *r,
         _esc__ElencoSerieCarteRicevuta &s) { return p.ElencoSerieCarte(r, s); },
      [](struct soap *soap, _esc__ElencoSerieCarteRicevuta &r) {
        Obj o = ricevuta(soap, r, esito(soap, r.esito).c_str());
        std::vector<std::string> serie;
        for (auto *x : r.serie) {
          std::vector<std::string> sw;
          for (auto *w : x->software)
            sw.push_back(Obj()
                             .s("sistemaOperativo", w->sistemaOperativo)
                             .s("nomeSoftware", w->nomeSoftware)
                             .str());
          serie.push_back(Obj()
                              .s("sigla", x->sigla)
                              .s("produttore", x->produttore)
                              .b("pukRichiesto", x->pukRichiesto)
                              .raw("software", arr(sw))
                              .str());
        }
        o.raw("serie", arr(serie));
        return o;
      },
      // The pattern wants 2-3 letters and 4 digits.
      [](_esc__ElencoSerieCarteRichiesta &r) { r.sigla = &sigla_invalida; });
}

static void verifica_rinnovo() {
  _vrc__VerificaRinnovoCertificatoRichiesta rq;
  rq.numeroTessera = "80380030009000000001";
  rq.serialeCertificato = "5A3F0001";
  opera<verificaRinnovoCertificatoBindingProxy, _vrc__VerificaRinnovoCertificatoRichiesta,
        _vrc__VerificaRinnovoCertificatoRicevuta>(
      "VerificaRinnovoCertificato", rq,
      [](verificaRinnovoCertificatoBindingProxy &p, _vrc__VerificaRinnovoCertificatoRichiesta *r,
         _vrc__VerificaRinnovoCertificatoRicevuta &s) { return p.VerificaRinnovoCertificato(r, s); },
      [](struct soap *soap, _vrc__VerificaRinnovoCertificatoRicevuta &r) {
        Obj o = ricevuta(soap, r, esito(soap, r.esito).c_str());
        if (r.statoRinnovo)
          o.s("statoRinnovo", soap_vrc__statoRinnovoType2s(soap, *r.statoRinnovo));
        if (r.siglaSerie)
          o.s("siglaSerie", *r.siglaSerie);
        if (r.pukRichiesto)
          o.b("pukRichiesto", *r.pukRichiesto);
        if (r.dataScadenzaProrogata)
          o.s("dataScadenzaProrogata", iso(*r.dataScadenzaProrogata));
        errori(o, r.listaErrori);
        return o;
      },
      // Not hexadecimal.
      [](_vrc__VerificaRinnovoCertificatoRichiesta &r) { r.serialeCertificato = "5A3G0001"; });
}

static void registra_rinnovo() {
  _rrc__RegistraRinnovoCertificatoRichiesta rq;
  rq.numeroTessera = "80380030009000000002";
  rq.serialeCertificato = "5A3F0002";
  rq.serialeNuovoCertificato = "5A3F1002";
  rq.dataScadenzaNuovoCertificato = data(2020, 6, 30);
  opera<registraRinnovoCertificatoBindingProxy, _rrc__RegistraRinnovoCertificatoRichiesta,
        _rrc__RegistraRinnovoCertificatoRicevuta>(
      "RegistraRinnovoCertificato", rq,
      [](registraRinnovoCertificatoBindingProxy &p, _rrc__RegistraRinnovoCertificatoRichiesta *r,
         _rrc__RegistraRinnovoCertificatoRicevuta &s) { return p.RegistraRinnovoCertificato(r, s); },
      [](struct soap *soap, _rrc__RegistraRinnovoCertificatoRicevuta &r) {
        Obj o = ricevuta(soap, r, esito(soap, r.esito).c_str());
        errori(o, r.listaErrori);
        return o;
      },
      // 41 hex digits: at most 40.
      [](_rrc__RegistraRinnovoCertificatoRichiesta &r) {
        r.serialeNuovoCertificato = std::string(41, 'A');
      });
}

static LONG64 cursore = 0;
static int numero_massimo = 100;

static void elenco_revoche() {
  _er__ElencoRevocheRichiesta rq;
  rq.cursore = &cursore;
  rq.numeroMassimo = &numero_massimo;
  opera<elencoRevocheBindingProxy, _er__ElencoRevocheRichiesta, _er__ElencoRevocheRicevuta>(
      "ElencoRevoche", rq,
      [](elencoRevocheBindingProxy &p, _er__ElencoRevocheRichiesta *r,
         _er__ElencoRevocheRicevuta &s) { return p.ElencoRevoche(r, s); },
      [](struct soap *soap, _er__ElencoRevocheRicevuta &r) {
        Obj o = ricevuta(soap, r, esito(soap, r.esito).c_str());
        if (r.listaRevoche) {
          std::vector<std::string> lista;
          for (auto &x : r.listaRevoche->revoca)
            lista.push_back(Obj()
                                .n("idComunicazione", x.idComunicazione)
                                .s("numeroTessera", x.numeroTessera)
                                .s("codiceFiscale", x.codiceFiscale)
                                .s("serialeCertificato", x.serialeCertificato)
                                .s("emittenteCertificato", x.emittenteCertificato)
                                .s("motivo", soap_td__motivoComunicazioneRevocaType2s(soap, x.motivo))
                                .s("dataEvento", iso(x.dataEvento))
                                .s("dataComunicazione", iso(x.dataComunicazione))
                                .str());
          o.raw("listaRevoche", arr(lista));
        }
        o.n("cursoreSuccessivo", r.cursoreSuccessivo).b("altreRevoche", r.altreRevoche);
        return o;
      },
      // minInclusive 1.
      [](_er__ElencoRevocheRichiesta &) { numero_massimo = 0; });
}

static void conferma_revoche() {
  _cr__ConfermaRevocheRichiesta rq;
  rq.idComunicazione = {1, 2};
  opera<confermaRevocheBindingProxy, _cr__ConfermaRevocheRichiesta, _cr__ConfermaRevocheRicevuta>(
      "ConfermaRevoche", rq,
      [](confermaRevocheBindingProxy &p, _cr__ConfermaRevocheRichiesta *r,
         _cr__ConfermaRevocheRicevuta &s) { return p.ConfermaRevoche(r, s); },
      [](struct soap *soap, _cr__ConfermaRevocheRicevuta &r) {
        Obj o = ricevuta(soap, r, esito(soap, r.esito).c_str());
        o.n("numeroConfermate", r.numeroConfermate);
        errori(o, r.listaErrori);
        return o;
      },
      // idComunicazione is at least 1.
      [](_cr__ConfermaRevocheRichiesta &r) { r.idComunicazione = {0}; });
}

static std::string tessera_vafr = "80380120000000000002";
static struct tm scadenza_vafr = data(2028, 1, 31);

static void verifica_assistito() {
  _vafr__VerificaAssistitoFuoriRegioneRichiesta rq;
  rq.codiceFiscale = "BNCGLI85L42H501P";
  rq.numeroTessera = &tessera_vafr;
  rq.dataScadenzaTessera = &scadenza_vafr;
  opera<verificaAssistitoFuoriRegioneBindingProxy, _vafr__VerificaAssistitoFuoriRegioneRichiesta,
        _vafr__VerificaAssistitoFuoriRegioneRicevuta>(
      "VerificaAssistitoFuoriRegione", rq,
      [](verificaAssistitoFuoriRegioneBindingProxy &p,
         _vafr__VerificaAssistitoFuoriRegioneRichiesta *r,
         _vafr__VerificaAssistitoFuoriRegioneRicevuta &s) {
        return p.VerificaAssistitoFuoriRegione(r, s);
      },
      [](struct soap *soap, _vafr__VerificaAssistitoFuoriRegioneRicevuta &r) {
        Obj o = ricevuta(soap, r, esito(soap, r.esito).c_str());
        if (r.regioneAssistenza)
          o.s("regioneAssistenza", *r.regioneAssistenza);
        if (r.regioneResidenza)
          o.s("regioneResidenza", *r.regioneResidenza);
        if (r.identificativoCluster)
          o.s("identificativoCluster", *r.identificativoCluster);
        return o;
      },
      // The pattern wants upper case.
      [](_vafr__VerificaAssistitoFuoriRegioneRichiesta &r) {
        r.codiceFiscale = "bncgli85l42h501p";
      });
}

static std::string aic = "049269018";

static void trasmissione_prenotazione() {
  _tp__TrasmissionePrenotazioneRichiesta rq;
  rq.tipoOperazione = td__tipoOperazioneType__I;
  rq.codiceRegione = "030";
  rq.identificativoAssistito = "RSSMRA60C15F205L";
  rq.regionePrenotazione = "030";
  rq.codiceAIC = &aic;
  rq.dataPrenotazione = data(2026, 12, 15);
  rq.dose = 2;
  opera<trasmissionePrenotazioneBindingProxy, _tp__TrasmissionePrenotazioneRichiesta,
        _tp__TrasmissionePrenotazioneRicevuta>(
      "TrasmissionePrenotazione", rq,
      [](trasmissionePrenotazioneBindingProxy &p, _tp__TrasmissionePrenotazioneRichiesta *r,
         _tp__TrasmissionePrenotazioneRicevuta &s) { return p.TrasmissionePrenotazione(r, s); },
      [](struct soap *soap, _tp__TrasmissionePrenotazioneRicevuta &r) {
        Obj o = ricevuta(soap, r, esito(soap, r.esito).c_str());
        errori(o, r.listaErrori);
        return o;
      },
      // maxInclusive 9.
      [](_tp__TrasmissionePrenotazioneRichiesta &r) { r.dose = 10; });
}

static void trasmissione_somministrazione() {
  _ts__TrasmissioneSomministrazioneRichiesta rq;
  rq.tipoOperazione = td__tipoOperazioneType__I;
  rq.codiceRegione = "030";
  rq.identificativoAssistito = "RSSMRA60C15F205L";
  rq.regioneSomministrazione = "030";
  rq.codiceAIC = "049269018";
  rq.dataSomministrazione = data(2026, 1, 10);
  rq.dose = 1;
  opera<trasmissioneSomministrazioneBindingProxy, _ts__TrasmissioneSomministrazioneRichiesta,
        _ts__TrasmissioneSomministrazioneRicevuta>(
      "TrasmissioneSomministrazione", rq,
      [](trasmissioneSomministrazioneBindingProxy &p,
         _ts__TrasmissioneSomministrazioneRichiesta *r,
         _ts__TrasmissioneSomministrazioneRicevuta &s) {
        return p.TrasmissioneSomministrazione(r, s);
      },
      [](struct soap *soap, _ts__TrasmissioneSomministrazioneRicevuta &r) {
        Obj o = ricevuta(soap, r, esito(soap, r.esito).c_str());
        errori(o, r.listaErrori);
        return o;
      },
      // Two digits: the length is 3.
      [](_ts__TrasmissioneSomministrazioneRichiesta &r) { r.regioneSomministrazione = "30"; });
}

static std::string tessera_vs = "80380030000000000001";

static void verifica_somministrazioni() {
  _vs__VerificaSomministrazioniRichiesta rq;
  rq.codiceFiscale = "RSSMRA60C15F205L";
  rq.numeroTessera = &tessera_vs;
  opera<verificaSomministrazioniBindingProxy, _vs__VerificaSomministrazioniRichiesta,
        _vs__VerificaSomministrazioniRicevuta>(
      "VerificaSomministrazioni", rq,
      [](verificaSomministrazioniBindingProxy &p, _vs__VerificaSomministrazioniRichiesta *r,
         _vs__VerificaSomministrazioniRicevuta &s) { return p.VerificaSomministrazioni(r, s); },
      [](struct soap *soap, _vs__VerificaSomministrazioniRicevuta &r) {
        Obj o = ricevuta(soap, r, esito(soap, r.esito).c_str());
        if (r.listaSomministrazioni) {
          std::vector<std::string> lista;
          for (auto &x : r.listaSomministrazioni->somministrazione)
            lista.push_back(Obj()
                                .s("dataSomministrazione", iso(x.dataSomministrazione))
                                .n("numeroDose", x.numeroDose)
                                .s("codiceAIC", x.codiceAIC)
                                .s("regioneSomministrazione", x.regioneSomministrazione)
                                .str());
          o.raw("listaSomministrazioni", arr(lista));
        }
        return o;
      },
      // 15 characters: the length is 16.
      [](_vs__VerificaSomministrazioniRichiesta &r) { r.codiceFiscale = "RSSMRA60C15F205"; });
}

// ---- what SOAP_XML_STRICT (and the pattern hook) refuse, shown on crafted answers ----------

template <class T, class Read> static std::string leggi(const std::string &xml, Read read) {
  struct soap *soap = soap_new2(MODO_IN, MODO_OUT);
  soap->fsvalidate = valida_pattern;
  soap_set_namespaces(soap, namespaces);
  std::istringstream in(xml);
  soap->is = &in;
  T r;
  int rc = read(soap, &r);
  soap_destroy(soap);
  soap_end(soap);
  soap_free(soap);
  return nome_errore(rc);
}

static std::string vafr_ricevuta(const std::string &esito, const std::string &assistenza,
                                 const std::string &descrizione, const std::string &cluster,
                                 const std::string &extra) {
  std::string x = "<vafr:VerificaAssistitoFuoriRegioneRicevuta "
                  "xmlns:vafr=\"urn:tsgate:vaccini:verificaAssistitoFuoriRegione\">"
                  "<vafr:identificativoTransazione>0190a0b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b"
                  "</vafr:identificativoTransazione>"
                  "<vafr:esito>" + esito + "</vafr:esito>"
                  "<vafr:regioneAssistenza>" + assistenza + "</vafr:regioneAssistenza>";
  if (!descrizione.empty())
    x += "<vafr:descrizioneEsito>" + descrizione + "</vafr:descrizioneEsito>";
  x += "<vafr:identificativoCluster>" + cluster + "</vafr:identificativoCluster>" + extra;
  return x + "</vafr:VerificaAssistitoFuoriRegioneRicevuta>";
}

static std::string vs_ricevuta(int dosi, const std::string &data, int dose) {
  std::string x = "<vs:VerificaSomministrazioniRicevuta "
                  "xmlns:vs=\"urn:tsgate:vaccini:verificaSomministrazioni\">"
                  "<vs:identificativoTransazione>0190a0b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b"
                  "</vs:identificativoTransazione><vs:esito>00</vs:esito>"
                  "<vs:descrizioneEsito>ok</vs:descrizioneEsito><vs:listaSomministrazioni>";
  for (int i = 0; i < dosi; i++)
    x += "<vs:somministrazione><vs:dataSomministrazione>" + data +
         "</vs:dataSomministrazione><vs:numeroDose>" + std::to_string(dose) +
         "</vs:numeroDose><vs:codiceAIC>049269018</vs:codiceAIC>"
         "<vs:regioneSomministrazione>030</vs:regioneSomministrazione></vs:somministrazione>";
  return x + "</vs:listaSomministrazioni></vs:VerificaSomministrazioniRicevuta>";
}

static Obj autoverifica() {
  auto vafr = [](const std::string &xml) {
    return leggi<_vafr__VerificaAssistitoFuoriRegioneRicevuta>(
        xml, [](struct soap *s, _vafr__VerificaAssistitoFuoriRegioneRicevuta *r) {
          return soap_read__vafr__VerificaAssistitoFuoriRegioneRicevuta(s, r);
        });
  };
  auto vs = [](const std::string &xml) {
    return leggi<_vs__VerificaSomministrazioniRicevuta>(
        xml, [](struct soap *s, _vs__VerificaSomministrazioniRicevuta *r) {
          return soap_read__vs__VerificaSomministrazioniRicevuta(s, r);
        });
  };
  long prima = pattern_verificati;
  size_t falliti = pattern_falliti.size();
  Obj o;
  o.s("conforme", vafr(vafr_ricevuta("00", "120", "ok", "SANITARI", "")))
      .s("lunghezza", vafr(vafr_ricevuta("00", "12", "ok", "SANITARI", "")))
      .s("pattern", vafr(vafr_ricevuta("00", "120", "ok", "sanitari", "")))
      .s("enumerazione", vafr(vafr_ricevuta("03", "120", "ok", "SANITARI", "")))
      .s("obbligatorio_mancante", vafr(vafr_ricevuta("00", "120", "", "SANITARI", "")))
      .s("elemento_sconosciuto",
         vafr(vafr_ricevuta("00", "120", "ok", "SANITARI", "<vafr:altro>x</vafr:altro>")))
      .s("conforme_lista", vs(vs_ricevuta(2, "2026-01-10", 1)))
      .s("intervallo", vs(vs_ricevuta(1, "2026-01-10", 10)))
      .s("data", vs(vs_ricevuta(1, "10/01/2026", 1)))
      .s("data_con_zona", vs(vs_ricevuta(1, "2026-01-10+01:00", 1)))
      .s("occorrenze_massime", vs(vs_ricevuta(10, "2026-01-10", 1)));
  // The crafted answers' pattern checks are not counted with the server's.
  pattern_verificati = prima;
  pattern_falliti.resize(falliti);
  return o;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s BASE_URL CA_PEM OPERATION=CERT+KEY_PEM...\n", argv[0]);
    return 2;
  }
  base_url = argv[1];
  ca_file = argv[2];
  for (int i = 3; i < argc; i++) {
    std::string a = argv[i];
    size_t eq = a.find('=');
    if (eq == std::string::npos) {
      fprintf(stderr, "not OPERATION=PEM: %s\n", argv[i]);
      return 2;
    }
    operazioni.emplace_back(a.substr(0, eq), a.substr(eq + 1));
  }
  soap_ssl_init();

  Obj auto_ = autoverifica();
  std::map<std::string, void (*)()> tutte = {
      {"AttivazioneTSCNS", attivazione},
      {"RevocaTSCNS", revoca},
      {"ElencoSerieCarte", elenco_serie},
      {"VerificaRinnovoCertificato", verifica_rinnovo},
      {"RegistraRinnovoCertificato", registra_rinnovo},
      {"ElencoRevoche", elenco_revoche},
      {"ConfermaRevoche", conferma_revoche},
      {"VerificaAssistitoFuoriRegione", verifica_assistito},
      {"TrasmissionePrenotazione", trasmissione_prenotazione},
      {"TrasmissioneSomministrazione", trasmissione_somministrazione},
      {"VerificaSomministrazioni", verifica_somministrazioni},
  };
  for (auto &op : operazioni) {
    auto f = tutte.find(op.first);
    if (f == tutte.end()) {
      fprintf(stderr, "unknown operation %s\n", op.first.c_str());
      return 2;
    }
    f->second();
    std::cerr << op.first << ": " << valid[op.first] << "\n  invalid: " << faults[op.first]
              << std::endl;
  }

  Obj v, f, d;
  for (auto &op : operazioni) {
    v.raw(op.first, valid[op.first]);
    f.raw(op.first, faults[op.first]);
  }
  for (auto &x : date_sul_filo)
    d.s(x.first, x.second);
  std::vector<std::string> pf;
  for (auto &x : pattern_falliti)
    pf.push_back(q(x));
  Obj val;
  val.s("imode", "SOAP_XML_STRICT|SOAP_C_UTFSTRING")
      .n("pattern_verificati", pattern_verificati)
      .raw("pattern_falliti", arr(pf))
      .o("autoverifica", auto_);
  Obj out;
  out.s("stack", "gsoap")
      .n("gsoap_version", GSOAP_VERSION)
      .o("valid", v)
      .o("faults", f)
      .o("date_sul_filo", d)
      .o("validazione", val);
  std::cout << out.str() << std::endl;
  return 0;
}
