// The Java JAX-WS client of the integrator tests (tests/stack_java.rs), built by build.sh from
// what wsimport (Debian's JAX-WS RI 2.3) generates for the 11 WSDLs of the bundle, one package
// per service (tsgate.client.<service>).
//
//   java Client AMBIENTE.json      (ambiente.json: tests/common/stack.rs; run it with run.sh)
//
// For each operation, in the order of ambiente.json: one call with the valid data of
// fixtures/requests/<operation>.xml as Java values (xs:date as an XMLGregorianCalendar made from
// a GregorianCalendar, with the JVM's time zone; xs:int and xs:long as int/long, enumerations as
// the generated enums), then one request breaking a facet of the schema (JAXB does not check
// facets on the way out), expecting the generated ErroreGateway_Exception whose getFaultInfo()
// carries the TSG code. Mutual TLS: an SSLContext from the caller's PKCS#12 and the CA's PEM,
// set on each port through the RI's request-context SSLSocketFactory property.
//
// Validation of what comes back: every port has the RI's SchemaValidationFeature, inbound only
// (the invalid requests must leave), so a response body breaking the schema is refused; the RI
// does not validate faults, so the detail of every fault received is validated here against the
// bundle's ErroreGateway.xsd (javax.xml.validation) by a SOAPHandler, which also records the
// faultcode (typed fault exceptions do not carry it) and the dates as they went on the wire.
// Before calling the gateway, the client checks that validation on canned answers of a local
// HTTP server (com.sun.net.httpserver): "autoverifica" in the output.
//
// Prints one JSON line: {"stack", "valid", "faults", "date_sul_filo", "tipi", "validazione"}.

import com.sun.net.httpserver.HttpServer;
import com.sun.xml.ws.developer.SchemaValidationFeature;
import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.InetSocketAddress;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.GregorianCalendar;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;
import javax.xml.XMLConstants;
import javax.xml.datatype.DatatypeFactory;
import javax.xml.datatype.XMLGregorianCalendar;
import javax.xml.namespace.QName;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.soap.SOAPBody;
import javax.xml.soap.SOAPFault;
import javax.xml.soap.SOAPMessage;
import javax.xml.transform.dom.DOMSource;
import javax.xml.validation.Schema;
import javax.xml.validation.SchemaFactory;
import javax.xml.ws.BindingProvider;
import javax.xml.ws.handler.Handler;
import javax.xml.ws.handler.MessageContext;
import javax.xml.ws.handler.soap.SOAPHandler;
import javax.xml.ws.handler.soap.SOAPMessageContext;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

import tsgate.client.attivazionetscns.AttivazioneTSCNSRichiesta;
import tsgate.client.attivazionetscns.AttivazioneTSCNSService;
import tsgate.client.confermarevoche.ConfermaRevocheRichiesta;
import tsgate.client.confermarevoche.ConfermaRevocheService;
import tsgate.client.elencorevoche.ElencoRevocheRichiesta;
import tsgate.client.elencorevoche.ElencoRevocheService;
import tsgate.client.elencoseriecarte.ElencoSerieCarteRichiesta;
import tsgate.client.elencoseriecarte.ElencoSerieCarteService;
import tsgate.client.registrarinnovocertificato.RegistraRinnovoCertificatoRichiesta;
import tsgate.client.registrarinnovocertificato.RegistraRinnovoCertificatoService;
import tsgate.client.revocatscns.MotivoRevocaType;
import tsgate.client.revocatscns.RevocaTSCNSRichiesta;
import tsgate.client.revocatscns.RevocaTSCNSService;
import tsgate.client.trasmissioneprenotazione.TrasmissionePrenotazioneRichiesta;
import tsgate.client.trasmissioneprenotazione.TrasmissionePrenotazioneService;
import tsgate.client.trasmissionesomministrazione.TrasmissioneSomministrazioneRichiesta;
import tsgate.client.trasmissionesomministrazione.TrasmissioneSomministrazioneService;
import tsgate.client.verificaassistitofuoriregione.VerificaAssistitoFuoriRegionePT;
import tsgate.client.verificaassistitofuoriregione.VerificaAssistitoFuoriRegioneRichiesta;
import tsgate.client.verificaassistitofuoriregione.VerificaAssistitoFuoriRegioneService;
import tsgate.client.verificarinnovocertificato.VerificaRinnovoCertificatoRichiesta;
import tsgate.client.verificarinnovocertificato.VerificaRinnovoCertificatoService;
import tsgate.client.verificasomministrazioni.VerificaSomministrazioniRichiesta;
import tsgate.client.verificasomministrazioni.VerificaSomministrazioniService;

public class Client {
    static final String SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/";
    static final String ERRORI = "urn:tsgate:errori";
    static final String SSL_FACTORY = "com.sun.xml.ws.transport.https.client.SSLSocketFactory";

    // ---- a minimal JSON reader and writer (the JDK has none) --------------------------------

    static final class Json {
        final String s;
        int i;

        Json(String s) {
            this.s = s;
        }

        static Object parse(String s) {
            Json j = new Json(s);
            Object v = j.value();
            j.ws();
            if (j.i != s.length()) throw new IllegalArgumentException("JSON: trailing data at " + j.i);
            return v;
        }

        void ws() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++;
        }

        Object value() {
            ws();
            char c = s.charAt(i);
            if (c == '{') {
                Map<String, Object> m = new LinkedHashMap<>();
                i++;
                ws();
                if (s.charAt(i) == '}') {
                    i++;
                    return m;
                }
                while (true) {
                    ws();
                    String k = string();
                    ws();
                    expect(':');
                    m.put(k, value());
                    ws();
                    if (s.charAt(i) == ',') {
                        i++;
                        continue;
                    }
                    expect('}');
                    return m;
                }
            }
            if (c == '[') {
                List<Object> l = new ArrayList<>();
                i++;
                ws();
                if (s.charAt(i) == ']') {
                    i++;
                    return l;
                }
                while (true) {
                    l.add(value());
                    ws();
                    if (s.charAt(i) == ',') {
                        i++;
                        continue;
                    }
                    expect(']');
                    return l;
                }
            }
            if (c == '"') return string();
            for (String lit : new String[] {"true", "false", "null"}) {
                if (s.startsWith(lit, i)) {
                    i += lit.length();
                    return lit.equals("null") ? null : Boolean.valueOf(lit);
                }
            }
            int start = i;
            while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) i++;
            if (start == i) throw new IllegalArgumentException("JSON: unexpected " + c + " at " + i);
            return Double.valueOf(s.substring(start, i));
        }

        void expect(char c) {
            if (s.charAt(i) != c) throw new IllegalArgumentException("JSON: expected " + c + " at " + i);
            i++;
        }

        String string() {
            expect('"');
            StringBuilder b = new StringBuilder();
            while (true) {
                char c = s.charAt(i++);
                if (c == '"') return b.toString();
                if (c != '\\') {
                    b.append(c);
                    continue;
                }
                char e = s.charAt(i++);
                switch (e) {
                    case 'n': b.append('\n'); break;
                    case 't': b.append('\t'); break;
                    case 'r': b.append('\r'); break;
                    case 'b': b.append('\b'); break;
                    case 'f': b.append('\f'); break;
                    case 'u':
                        b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                        i += 4;
                        break;
                    default: b.append(e);
                }
            }
        }

        static String write(Object v) {
            StringBuilder b = new StringBuilder();
            write(b, v);
            return b.toString();
        }

        static void write(StringBuilder b, Object v) {
            if (v == null) {
                b.append("null");
            } else if (v instanceof Map) {
                b.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                    if (!first) b.append(',');
                    first = false;
                    write(b, String.valueOf(e.getKey()));
                    b.append(':');
                    write(b, e.getValue());
                }
                b.append('}');
            } else if (v instanceof Collection) {
                b.append('[');
                boolean first = true;
                for (Object x : (Collection<?>) v) {
                    if (!first) b.append(',');
                    first = false;
                    write(b, x);
                }
                b.append(']');
            } else if (v instanceof Number || v instanceof Boolean) {
                b.append(v);
            } else {
                String s = v.toString();
                b.append('"');
                for (char c : s.toCharArray()) {
                    if (c == '"' || c == '\\') b.append('\\').append(c);
                    else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
                }
                b.append('"');
            }
        }
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> obj(Object o) {
        return (Map<String, Object>) o;
    }

    // ---- the fixtures, read into Java values --------------------------------------------------

    static final DatatypeFactory DATATYPES;

    static {
        try {
            DATATYPES = DatatypeFactory.newInstance();
        } catch (Exception e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** An xs:date as an integrator's code makes one: a GregorianCalendar (midnight, in the
     * JVM's time zone) turned into an XMLGregorianCalendar, which carries the zone's offset.
     * JAXB writes the date and the offset (@XmlSchemaType(name = "date")). */
    static XMLGregorianCalendar data(String iso) {
        LocalDate d = LocalDate.parse(iso);
        GregorianCalendar g = new GregorianCalendar(d.getYear(), d.getMonthValue() - 1, d.getDayOfMonth());
        return DATATYPES.newXMLGregorianCalendar(g);
    }

    /** The Richiesta element of fixtures/requests/OP.xml. */
    static final class Fixture {
        final Element richiesta;

        Fixture(Path dir, String op) throws Exception {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setNamespaceAware(true);
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            Document doc = f.newDocumentBuilder().parse(dir.resolve(op + ".xml").toFile());
            Element body = (Element) doc.getElementsByTagNameNS(SOAP11, "Body").item(0);
            Element r = null;
            for (Node n = body.getFirstChild(); n != null; n = n.getNextSibling()) {
                if (n instanceof Element) {
                    r = (Element) n;
                    break;
                }
            }
            if (r == null || !r.getLocalName().equals(op + "Richiesta")) {
                throw new IllegalStateException(op + ".xml: no " + op + "Richiesta");
            }
            richiesta = r;
        }

        List<String> all(String name) {
            List<String> l = new ArrayList<>();
            for (Node n = richiesta.getFirstChild(); n != null; n = n.getNextSibling()) {
                if (n instanceof Element && n.getLocalName().equals(name)) l.add(n.getTextContent().trim());
            }
            return l;
        }

        String s(String name) {
            List<String> l = all(name);
            if (l.size() != 1) throw new IllegalStateException(name + ": " + l.size() + " in the fixture");
            return l.get(0);
        }

        XMLGregorianCalendar date(String name) {
            return data(s(name));
        }

        int i(String name) {
            return Integer.parseInt(s(name));
        }

        long l(String name) {
            return Long.parseLong(s(name));
        }
    }

    // ---- TLS -------------------------------------------------------------------------------

    static SSLSocketFactory tls(Map<String, Object> caller, String caPem) throws Exception {
        char[] password = ((String) caller.get("p12_password")).toCharArray();
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(Paths.get((String) caller.get("p12")))) {
            ks.load(in, password);
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, password);
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        int n = 0;
        try (InputStream in = Files.newInputStream(Paths.get(caPem))) {
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                trust.setCertificateEntry("ca" + n++, c);
            }
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return ctx.getSocketFactory();
    }

    // ---- what goes and comes back ------------------------------------------------------------

    /** The SOAPHandler on every port: the dates of each request as written on the wire, the
     * faultcode of each fault received, and the validation of the fault detail (erroreGateway)
     * against ErroreGateway.xsd, which the RI's SchemaValidationFeature leaves out. */
    static final class Registro implements SOAPHandler<SOAPMessageContext> {
        final Schema errore;
        Map<String, String> dateInviate = new LinkedHashMap<>();
        QName faultcode;
        String faultstring;
        int risposte;
        int dettagli;

        Registro(Schema errore) {
            this.errore = errore;
        }

        void reset() {
            dateInviate = new LinkedHashMap<>();
            faultcode = null;
            faultstring = null;
        }

        @Override
        public Set<QName> getHeaders() {
            return new HashSet<>();
        }

        @Override
        public boolean handleMessage(SOAPMessageContext ctx) {
            try {
                SOAPBody body = ctx.getMessage().getSOAPBody();
                if ((Boolean) ctx.get(MessageContext.MESSAGE_OUTBOUND_PROPERTY)) {
                    NodeList all = body.getElementsByTagNameNS("*", "*");
                    for (int k = 0; k < all.getLength(); k++) {
                        Element e = (Element) all.item(k);
                        if (e.getLocalName().startsWith("data")) dateInviate.put(e.getLocalName(), e.getTextContent());
                    }
                } else if (body.hasFault()) {
                    fault(body.getFault());
                } else {
                    risposte++;
                }
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
            return true;
        }

        // The client's inbound faults come here, not to handleMessage.
        @Override
        public boolean handleFault(SOAPMessageContext ctx) {
            try {
                SOAPMessage m = ctx.getMessage();
                fault(m.getSOAPBody().getFault());
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
            return true;
        }

        void fault(SOAPFault f) throws Exception {
            faultcode = f.getFaultCodeAsQName();
            faultstring = f.getFaultString();
            if (f.getDetail() == null) throw new IllegalStateException("fault without detail: " + faultstring);
            NodeList d = f.getDetail().getElementsByTagNameNS(ERRORI, "erroreGateway");
            if (d.getLength() != 1) throw new IllegalStateException("fault without erroreGateway: " + faultstring);
            // A standalone copy: the validator sees the element alone, with its namespaces.
            DocumentBuilderFactory dbf = DocumentBuilderFactory.newInstance();
            dbf.setNamespaceAware(true);
            Document doc = dbf.newDocumentBuilder().newDocument();
            doc.appendChild(doc.importNode(d.item(0), true));
            errore.newValidator().validate(new DOMSource(doc));
            dettagli++;
        }

        @Override
        public void close(MessageContext ctx) {}
    }

    static Registro registro;
    static String base;
    static Path fixtures;
    static Path bundle;
    static String ca;
    static Map<String, Object> callers;
    static final Map<String, Map<String, Object>> operazioni = new LinkedHashMap<>();
    static final Map<String, SSLSocketFactory> factories = new LinkedHashMap<>();

    /** A port of the operation's service: the WSDL of the bundle, the endpoint and the caller's
     * TLS from ambiente.json, inbound schema validation, the Registro. */
    static <P> P porta(P port, String endpoint, SSLSocketFactory tls) {
        BindingProvider bp = (BindingProvider) port;
        Map<String, Object> rc = bp.getRequestContext();
        rc.put(BindingProvider.ENDPOINT_ADDRESS_PROPERTY, endpoint);
        if (tls != null) rc.put(SSL_FACTORY, tls);
        rc.put("com.sun.xml.ws.connect.timeout", 30000);
        rc.put("com.sun.xml.ws.request.timeout", 60000);
        @SuppressWarnings("rawtypes")
        List<Handler> chain = bp.getBinding().getHandlerChain();
        chain.add(registro);
        bp.getBinding().setHandlerChain(chain);
        return port;
    }

    static SchemaValidationFeature validazione() {
        // inbound: the answers; not outbound: the invalid requests must reach the gateway.
        return new SchemaValidationFeature(true, false);
    }

    static URL wsdl(String op) throws Exception {
        return new File((String) operazioni.get(op).get("wsdl")).toURI().toURL();
    }

    static String endpoint(String op) {
        return (String) operazioni.get(op).get("endpoint");
    }

    static SSLSocketFactory tlsDi(String op) throws Exception {
        String caller = (String) operazioni.get(op).get("caller");
        SSLSocketFactory f = factories.get(caller);
        if (f == null) {
            f = tls(obj(callers.get(caller)), ca);
            factories.put(caller, f);
        }
        return f;
    }

    // ---- a received JAXB object as JSON ------------------------------------------------------

    /** The generated bean's fields, recursively: strings as strings, numbers and booleans as
     * JSON numbers and booleans, XMLGregorianCalendar as its lexical form, enums as their
     * value; `tipi` gets the Java type of every non-String leaf by path. */
    static Object inJson(Object v, String path, Map<String, String> tipi) throws Exception {
        if (v == null) return null;
        if (v instanceof String) return v;
        if (v instanceof List) {
            List<Object> l = new ArrayList<>();
            int k = 0;
            for (Object x : (List<?>) v) l.add(inJson(x, path + "/" + k++, tipi));
            return l;
        }
        if (v instanceof Number || v instanceof Boolean) {
            tipi.put(path, v.getClass().getSimpleName());
            return v;
        }
        if (v instanceof XMLGregorianCalendar) {
            tipi.put(path, "XMLGregorianCalendar");
            return ((XMLGregorianCalendar) v).toXMLFormat();
        }
        if (v instanceof Enum) {
            tipi.put(path, "enum");
            Method value = v.getClass().getMethod("value");
            return value.invoke(v);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        for (Field f : v.getClass().getDeclaredFields()) {
            if (Modifier.isStatic(f.getModifiers()) || f.isSynthetic()) continue;
            f.setAccessible(true);
            Object x = f.get(v);
            if (x != null) m.put(f.getName(), inJson(x, path + "/" + f.getName(), tipi));
        }
        return m;
    }

    // ---- the calls ---------------------------------------------------------------------------

    interface Chiamata {
        Object call() throws Exception;
    }

    /** The typed detail of a generated ErroreGateway_Exception (each service package has its
     * own), with the faultcode the Registro read. */
    static Map<String, Object> guasto(String codice, String descrizione, String transazione, String messaggio) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("faultcode", registro.faultcode == null ? null : registro.faultcode.toString());
        m.put("faultstring", messaggio);
        m.put("codice", codice);
        m.put("descrizione", descrizione);
        m.put("identificativoTransazione", transazione);
        return m;
    }

    static final Map<String, Object> valid = new LinkedHashMap<>();
    static final Map<String, Object> faults = new LinkedHashMap<>();
    static final Map<String, Object> dateSulFilo = new LinkedHashMap<>();
    static final Map<String, Object> tipi = new LinkedHashMap<>();
    static int errori = 0;

    /** Something other than the answer or fault expected: its class, message and, for a
     * typed fault, its detail. */
    static Map<String, Object> inatteso(Throwable e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("eccezione", e.getClass().getName());
        m.put("messaggio", String.valueOf(e.getMessage()));
        try {
            Object info = e.getClass().getMethod("getFaultInfo").invoke(e);
            m.put("dettaglio", inJson(info, "", new LinkedHashMap<>()));
            m.put("faultcode", registro.faultcode == null ? null : registro.faultcode.toString());
        } catch (NoSuchMethodException x) {
            // not a typed fault
        } catch (Exception x) {
            m.put("dettaglio", x.toString());
        }
        return m;
    }

    static void operazione(String op, Chiamata valida, Chiamata invalida) {
        registro.reset();
        try {
            Map<String, String> t = new LinkedHashMap<>();
            valid.put(op, inJson(valida.call(), "", t));
            tipi.put(op, t);
        } catch (Throwable e) {
            System.err.println(op + ": valid call: " + e);
            valid.put(op, inatteso(e));
            errori++;
        }
        Map<String, Object> d = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : registro.dateInviate.entrySet()) d.put(e.getKey(), e.getValue());
        if (!d.isEmpty()) dateSulFilo.put(op, d);
        registro.reset();
        try {
            Object r = invalida.call();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("inatteso", "no fault");
            m.put("risposta", inJson(r, "", new LinkedHashMap<>()));
            faults.put(op, m);
            errori++;
        } catch (Throwable e) {
            if (e instanceof Fault) {
                faults.put(op, ((Fault) e).dettaglio);
            } else {
                System.err.println(op + ": invalid call: " + e);
                faults.put(op, inatteso(e));
                errori++;
            }
        }
    }

    /** Thrown by the invalid calls with the typed detail they caught. */
    static final class Fault extends Exception {
        final Map<String, Object> dettaglio;

        Fault(Map<String, Object> dettaglio) {
            super("typed fault");
            this.dettaglio = dettaglio;
        }
    }

    static Fault fault(tsgate.client.attivazionetscns.ErroreGateway_Exception e) {
        tsgate.client.attivazionetscns.ErroreGateway d = e.getFaultInfo();
        return new Fault(guasto(d.getCodice(), d.getDescrizione(), d.getIdentificativoTransazione(), e.getMessage()));
    }

    static Fault fault(tsgate.client.revocatscns.ErroreGateway_Exception e) {
        tsgate.client.revocatscns.ErroreGateway d = e.getFaultInfo();
        return new Fault(guasto(d.getCodice(), d.getDescrizione(), d.getIdentificativoTransazione(), e.getMessage()));
    }

    static Fault fault(tsgate.client.elencoseriecarte.ErroreGateway_Exception e) {
        tsgate.client.elencoseriecarte.ErroreGateway d = e.getFaultInfo();
        return new Fault(guasto(d.getCodice(), d.getDescrizione(), d.getIdentificativoTransazione(), e.getMessage()));
    }

    static Fault fault(tsgate.client.verificarinnovocertificato.ErroreGateway_Exception e) {
        tsgate.client.verificarinnovocertificato.ErroreGateway d = e.getFaultInfo();
        return new Fault(guasto(d.getCodice(), d.getDescrizione(), d.getIdentificativoTransazione(), e.getMessage()));
    }

    static Fault fault(tsgate.client.registrarinnovocertificato.ErroreGateway_Exception e) {
        tsgate.client.registrarinnovocertificato.ErroreGateway d = e.getFaultInfo();
        return new Fault(guasto(d.getCodice(), d.getDescrizione(), d.getIdentificativoTransazione(), e.getMessage()));
    }

    static Fault fault(tsgate.client.elencorevoche.ErroreGateway_Exception e) {
        tsgate.client.elencorevoche.ErroreGateway d = e.getFaultInfo();
        return new Fault(guasto(d.getCodice(), d.getDescrizione(), d.getIdentificativoTransazione(), e.getMessage()));
    }

    static Fault fault(tsgate.client.confermarevoche.ErroreGateway_Exception e) {
        tsgate.client.confermarevoche.ErroreGateway d = e.getFaultInfo();
        return new Fault(guasto(d.getCodice(), d.getDescrizione(), d.getIdentificativoTransazione(), e.getMessage()));
    }

    static Fault fault(tsgate.client.verificaassistitofuoriregione.ErroreGateway_Exception e) {
        tsgate.client.verificaassistitofuoriregione.ErroreGateway d = e.getFaultInfo();
        return new Fault(guasto(d.getCodice(), d.getDescrizione(), d.getIdentificativoTransazione(), e.getMessage()));
    }

    static Fault fault(tsgate.client.trasmissioneprenotazione.ErroreGateway_Exception e) {
        tsgate.client.trasmissioneprenotazione.ErroreGateway d = e.getFaultInfo();
        return new Fault(guasto(d.getCodice(), d.getDescrizione(), d.getIdentificativoTransazione(), e.getMessage()));
    }

    static Fault fault(tsgate.client.trasmissionesomministrazione.ErroreGateway_Exception e) {
        tsgate.client.trasmissionesomministrazione.ErroreGateway d = e.getFaultInfo();
        return new Fault(guasto(d.getCodice(), d.getDescrizione(), d.getIdentificativoTransazione(), e.getMessage()));
    }

    static Fault fault(tsgate.client.verificasomministrazioni.ErroreGateway_Exception e) {
        tsgate.client.verificasomministrazioni.ErroreGateway d = e.getFaultInfo();
        return new Fault(guasto(d.getCodice(), d.getDescrizione(), d.getIdentificativoTransazione(), e.getMessage()));
    }

    static Fixture fx(String op) throws Exception {
        return new Fixture(fixtures, op);
    }

    static void chiama(String op) throws Exception {
        SSLSocketFactory tls = tlsDi(op);
        String ep = endpoint(op);
        switch (op) {
            case "AttivazioneTSCNS": {
                var port = porta(new AttivazioneTSCNSService(wsdl(op)).getAttivazioneTSCNSPort(validazione()), ep, tls);
                Fixture f = fx(op);
                operazione(op, () -> {
                    AttivazioneTSCNSRichiesta r = new AttivazioneTSCNSRichiesta();
                    r.setCodiceFiscale(f.s("codiceFiscale"));
                    r.setNumeroTessera(f.s("numeroTessera"));
                    r.setSerialeCertificato(f.s("serialeCertificato"));
                    r.setEmittenteCertificato(f.s("emittenteCertificato"));
                    r.setDataInizioValidita(f.date("dataInizioValidita"));
                    r.setDataFineValidita(f.date("dataFineValidita"));
                    r.setDataAttivazione(f.date("dataAttivazione"));
                    return port.attivazioneTSCNS(r);
                }, () -> {
                    AttivazioneTSCNSRichiesta r = new AttivazioneTSCNSRichiesta();
                    r.setCodiceFiscale(f.s("codiceFiscale").toLowerCase()); // pattern [A-Z]...
                    r.setNumeroTessera(f.s("numeroTessera"));
                    r.setSerialeCertificato(f.s("serialeCertificato"));
                    r.setEmittenteCertificato(f.s("emittenteCertificato"));
                    r.setDataInizioValidita(f.date("dataInizioValidita"));
                    r.setDataFineValidita(f.date("dataFineValidita"));
                    r.setDataAttivazione(f.date("dataAttivazione"));
                    try {
                        return port.attivazioneTSCNS(r);
                    } catch (tsgate.client.attivazionetscns.ErroreGateway_Exception e) {
                        throw fault(e);
                    }
                });
                break;
            }
            case "RevocaTSCNS": {
                var port = porta(new RevocaTSCNSService(wsdl(op)).getRevocaTSCNSPort(validazione()), ep, tls);
                Fixture f = fx(op);
                operazione(op, () -> {
                    RevocaTSCNSRichiesta r = new RevocaTSCNSRichiesta();
                    r.setNumeroTessera(f.s("numeroTessera"));
                    r.setMotivo(MotivoRevocaType.fromValue(f.s("motivo")));
                    r.setDataRevoca(f.date("dataRevoca"));
                    return port.revocaTSCNS(r);
                }, () -> {
                    RevocaTSCNSRichiesta r = new RevocaTSCNSRichiesta();
                    r.setNumeroTessera(f.s("numeroTessera").substring(1)); // 19 digits: length 20
                    r.setMotivo(MotivoRevocaType.fromValue(f.s("motivo")));
                    r.setDataRevoca(f.date("dataRevoca"));
                    try {
                        return port.revocaTSCNS(r);
                    } catch (tsgate.client.revocatscns.ErroreGateway_Exception e) {
                        throw fault(e);
                    }
                });
                break;
            }
            case "ElencoSerieCarte": {
                var port = porta(new ElencoSerieCarteService(wsdl(op)).getElencoSerieCartePort(validazione()), ep, tls);
                operazione(op, () -> port.elencoSerieCarte(new ElencoSerieCarteRichiesta()), () -> {
                    ElencoSerieCarteRichiesta r = new ElencoSerieCarteRichiesta();
                    r.setSigla("X1"); // pattern [A-Za-z]{2,3}[0-9]{4}
                    try {
                        return port.elencoSerieCarte(r);
                    } catch (tsgate.client.elencoseriecarte.ErroreGateway_Exception e) {
                        throw fault(e);
                    }
                });
                break;
            }
            case "VerificaRinnovoCertificato": {
                var port = porta(new VerificaRinnovoCertificatoService(wsdl(op)).getVerificaRinnovoCertificatoPort(validazione()), ep, tls);
                Fixture f = fx(op);
                operazione(op, () -> {
                    VerificaRinnovoCertificatoRichiesta r = new VerificaRinnovoCertificatoRichiesta();
                    r.setNumeroTessera(f.s("numeroTessera"));
                    r.setSerialeCertificato(f.s("serialeCertificato"));
                    return port.verificaRinnovoCertificato(r);
                }, () -> {
                    VerificaRinnovoCertificatoRichiesta r = new VerificaRinnovoCertificatoRichiesta();
                    r.setNumeroTessera("123"); // length 20
                    r.setSerialeCertificato(f.s("serialeCertificato"));
                    try {
                        return port.verificaRinnovoCertificato(r);
                    } catch (tsgate.client.verificarinnovocertificato.ErroreGateway_Exception e) {
                        throw fault(e);
                    }
                });
                break;
            }
            case "RegistraRinnovoCertificato": {
                var port = porta(new RegistraRinnovoCertificatoService(wsdl(op)).getRegistraRinnovoCertificatoPort(validazione()), ep, tls);
                Fixture f = fx(op);
                operazione(op, () -> {
                    RegistraRinnovoCertificatoRichiesta r = new RegistraRinnovoCertificatoRichiesta();
                    r.setNumeroTessera(f.s("numeroTessera"));
                    r.setSerialeCertificato(f.s("serialeCertificato"));
                    r.setSerialeNuovoCertificato(f.s("serialeNuovoCertificato"));
                    r.setDataScadenzaNuovoCertificato(f.date("dataScadenzaNuovoCertificato"));
                    return port.registraRinnovoCertificato(r);
                }, () -> {
                    RegistraRinnovoCertificatoRichiesta r = new RegistraRinnovoCertificatoRichiesta();
                    r.setNumeroTessera(f.s("numeroTessera").substring(1) + "X"); // pattern [0-9]{20}
                    r.setSerialeCertificato(f.s("serialeCertificato"));
                    r.setSerialeNuovoCertificato(f.s("serialeNuovoCertificato"));
                    r.setDataScadenzaNuovoCertificato(f.date("dataScadenzaNuovoCertificato"));
                    try {
                        return port.registraRinnovoCertificato(r);
                    } catch (tsgate.client.registrarinnovocertificato.ErroreGateway_Exception e) {
                        throw fault(e);
                    }
                });
                break;
            }
            case "ElencoRevoche": {
                var port = porta(new ElencoRevocheService(wsdl(op)).getElencoRevochePort(validazione()), ep, tls);
                Fixture f = fx(op);
                operazione(op, () -> {
                    ElencoRevocheRichiesta r = new ElencoRevocheRichiesta();
                    r.setCursore(f.l("cursore"));
                    r.setNumeroMassimo(f.i("numeroMassimo"));
                    return port.elencoRevoche(r);
                }, () -> {
                    ElencoRevocheRichiesta r = new ElencoRevocheRichiesta();
                    r.setCursore(f.l("cursore"));
                    r.setNumeroMassimo(1001); // maxInclusive 1000
                    try {
                        return port.elencoRevoche(r);
                    } catch (tsgate.client.elencorevoche.ErroreGateway_Exception e) {
                        throw fault(e);
                    }
                });
                break;
            }
            case "ConfermaRevoche": {
                var port = porta(new ConfermaRevocheService(wsdl(op)).getConfermaRevochePort(validazione()), ep, tls);
                Fixture f = fx(op);
                operazione(op, () -> {
                    ConfermaRevocheRichiesta r = new ConfermaRevocheRichiesta();
                    for (String id : f.all("idComunicazione")) r.getIdComunicazione().add(Long.parseLong(id));
                    return port.confermaRevoche(r);
                }, () -> {
                    ConfermaRevocheRichiesta r = new ConfermaRevocheRichiesta();
                    r.getIdComunicazione().add(0L); // minInclusive 1
                    try {
                        return port.confermaRevoche(r);
                    } catch (tsgate.client.confermarevoche.ErroreGateway_Exception e) {
                        throw fault(e);
                    }
                });
                break;
            }
            case "VerificaAssistitoFuoriRegione": {
                var port = porta(new VerificaAssistitoFuoriRegioneService(wsdl(op)).getVerificaAssistitoFuoriRegionePort(validazione()), ep, tls);
                Fixture f = fx(op);
                operazione(op, () -> {
                    VerificaAssistitoFuoriRegioneRichiesta r = new VerificaAssistitoFuoriRegioneRichiesta();
                    r.setCodiceFiscale(f.s("codiceFiscale"));
                    r.setNumeroTessera(f.s("numeroTessera"));
                    r.setDataScadenzaTessera(f.date("dataScadenzaTessera"));
                    return port.verificaAssistitoFuoriRegione(r);
                }, () -> {
                    VerificaAssistitoFuoriRegioneRichiesta r = new VerificaAssistitoFuoriRegioneRichiesta();
                    r.setCodiceFiscale(f.s("codiceFiscale").toLowerCase()); // pattern [A-Z]...
                    r.setNumeroTessera(f.s("numeroTessera"));
                    r.setDataScadenzaTessera(f.date("dataScadenzaTessera"));
                    try {
                        return port.verificaAssistitoFuoriRegione(r);
                    } catch (tsgate.client.verificaassistitofuoriregione.ErroreGateway_Exception e) {
                        throw fault(e);
                    }
                });
                break;
            }
            case "TrasmissionePrenotazione": {
                var port = porta(new TrasmissionePrenotazioneService(wsdl(op)).getTrasmissionePrenotazionePort(validazione()), ep, tls);
                Fixture f = fx(op);
                operazione(op, () -> {
                    TrasmissionePrenotazioneRichiesta r = new TrasmissionePrenotazioneRichiesta();
                    r.setTipoOperazione(tsgate.client.trasmissioneprenotazione.TipoOperazioneType.fromValue(f.s("tipoOperazione")));
                    r.setCodiceRegione(f.s("codiceRegione"));
                    r.setIdentificativoAssistito(f.s("identificativoAssistito"));
                    r.setRegionePrenotazione(f.s("regionePrenotazione"));
                    r.setCodiceAIC(f.s("codiceAIC"));
                    r.setDataPrenotazione(f.date("dataPrenotazione"));
                    r.setDose(f.i("dose"));
                    return port.trasmissionePrenotazione(r);
                }, () -> {
                    TrasmissionePrenotazioneRichiesta r = new TrasmissionePrenotazioneRichiesta();
                    r.setTipoOperazione(tsgate.client.trasmissioneprenotazione.TipoOperazioneType.fromValue(f.s("tipoOperazione")));
                    r.setCodiceRegione(f.s("codiceRegione"));
                    r.setIdentificativoAssistito(f.s("identificativoAssistito"));
                    r.setRegionePrenotazione(f.s("regionePrenotazione"));
                    r.setCodiceAIC(f.s("codiceAIC"));
                    r.setDataPrenotazione(f.date("dataPrenotazione"));
                    r.setDose(0); // minInclusive 1
                    try {
                        return port.trasmissionePrenotazione(r);
                    } catch (tsgate.client.trasmissioneprenotazione.ErroreGateway_Exception e) {
                        throw fault(e);
                    }
                });
                break;
            }
            case "TrasmissioneSomministrazione": {
                var port = porta(new TrasmissioneSomministrazioneService(wsdl(op)).getTrasmissioneSomministrazionePort(validazione()), ep, tls);
                Fixture f = fx(op);
                operazione(op, () -> {
                    TrasmissioneSomministrazioneRichiesta r = new TrasmissioneSomministrazioneRichiesta();
                    r.setTipoOperazione(tsgate.client.trasmissionesomministrazione.TipoOperazioneType.fromValue(f.s("tipoOperazione")));
                    r.setCodiceRegione(f.s("codiceRegione"));
                    r.setIdentificativoAssistito(f.s("identificativoAssistito"));
                    r.setRegioneSomministrazione(f.s("regioneSomministrazione"));
                    r.setCodiceAIC(f.s("codiceAIC"));
                    r.setDataSomministrazione(f.date("dataSomministrazione"));
                    r.setDose(f.i("dose"));
                    return port.trasmissioneSomministrazione(r);
                }, () -> {
                    TrasmissioneSomministrazioneRichiesta r = new TrasmissioneSomministrazioneRichiesta();
                    r.setTipoOperazione(tsgate.client.trasmissionesomministrazione.TipoOperazioneType.fromValue(f.s("tipoOperazione")));
                    r.setCodiceRegione(f.s("codiceRegione"));
                    r.setIdentificativoAssistito(f.s("identificativoAssistito"));
                    r.setRegioneSomministrazione(f.s("regioneSomministrazione"));
                    r.setCodiceAIC(f.s("codiceAIC"));
                    r.setDataSomministrazione(f.date("dataSomministrazione"));
                    r.setDose(10); // maxInclusive 9
                    try {
                        return port.trasmissioneSomministrazione(r);
                    } catch (tsgate.client.trasmissionesomministrazione.ErroreGateway_Exception e) {
                        throw fault(e);
                    }
                });
                break;
            }
            case "VerificaSomministrazioni": {
                var port = porta(new VerificaSomministrazioniService(wsdl(op)).getVerificaSomministrazioniPort(validazione()), ep, tls);
                Fixture f = fx(op);
                operazione(op, () -> {
                    VerificaSomministrazioniRichiesta r = new VerificaSomministrazioniRichiesta();
                    r.setCodiceFiscale(f.s("codiceFiscale"));
                    r.setNumeroTessera(f.s("numeroTessera"));
                    return port.verificaSomministrazioni(r);
                }, () -> {
                    VerificaSomministrazioniRichiesta r = new VerificaSomministrazioniRichiesta();
                    r.setCodiceFiscale(f.s("codiceFiscale").substring(0, 15)); // length 16
                    r.setNumeroTessera(f.s("numeroTessera"));
                    try {
                        return port.verificaSomministrazioni(r);
                    } catch (tsgate.client.verificasomministrazioni.ErroreGateway_Exception e) {
                        throw fault(e);
                    }
                });
                break;
            }
            default:
                throw new IllegalArgumentException("unknown operation " + op);
        }
    }

    // ---- the validation, checked on canned answers ---------------------------------------------

    static final String TX = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";

    static String busta(String body) {
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
            + "<soap:Envelope xmlns:soap=\"" + SOAP11 + "\"><soap:Body>" + body + "</soap:Body></soap:Envelope>";
    }

    static String ricevuta(String dentro) {
        return busta("<v:VerificaAssistitoFuoriRegioneRicevuta xmlns:v=\"urn:tsgate:vaccini:verificaAssistitoFuoriRegione\">"
            + dentro + "</v:VerificaAssistitoFuoriRegioneRicevuta>");
    }

    static String guastoGrezzo(String codice) {
        return busta("<soap:Fault><faultcode>soap:Client</faultcode><faultstring>Richiesta non conforme</faultstring>"
            + "<detail><err:erroreGateway xmlns:err=\"urn:tsgate:errori\"><err:codice>" + codice + "</err:codice>"
            + "<err:descrizione>Richiesta non conforme allo schema</err:descrizione>"
            + "<err:identificativoTransazione>" + TX + "</err:identificativoTransazione></err:erroreGateway></detail></soap:Fault>");
    }

    /** Each canned answer of VerificaAssistitoFuoriRegione, through a port set up as the real
     * ones (over plain HTTP): "OK", "fault TSG-xxxx" (the typed fault) or the class of what
     * refused it. */
    static Map<String, Object> autoverifica() throws Exception {
        Map<String, String> casi = new LinkedHashMap<>();
        String ok = "<v:identificativoTransazione>" + TX + "</v:identificativoTransazione><v:esito>00</v:esito>";
        String desc = "<v:descrizioneEsito>Assistito trovato</v:descrizioneEsito>";
        casi.put("conforme", ricevuta(ok + "<v:regioneAssistenza>120</v:regioneAssistenza>" + desc));
        casi.put("lunghezza", ricevuta(ok + "<v:regioneAssistenza>1200</v:regioneAssistenza>" + desc));
        casi.put("pattern", ricevuta(ok + "<v:regioneAssistenza>12A</v:regioneAssistenza>" + desc));
        casi.put("obbligatorio_mancante", ricevuta(ok + "<v:regioneAssistenza>120</v:regioneAssistenza>"));
        casi.put("elemento_sconosciuto", ricevuta(ok + desc + "<v:altro>x</v:altro>"));
        casi.put("ordine", ricevuta(ok + desc + "<v:regioneAssistenza>120</v:regioneAssistenza>"));
        casi.put("fault_conforme", guastoGrezzo("TSG-0301"));
        casi.put("fault_dettaglio_non_conforme", guastoGrezzo("TSG-301"));
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", ex -> {
            String caso = ex.getRequestURI().getPath().substring(1);
            ex.getRequestBody().readAllBytes();
            byte[] b = casi.getOrDefault(caso, "").getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "text/xml; charset=utf-8");
            ex.sendResponseHeaders(caso.startsWith("fault") ? 500 : 200, b.length);
            try (OutputStream o = ex.getResponseBody()) {
                o.write(b);
            }
        });
        server.start();
        Map<String, Object> esiti = new LinkedHashMap<>();
        try {
            String op = "VerificaAssistitoFuoriRegione";
            VerificaAssistitoFuoriRegioneService svc = new VerificaAssistitoFuoriRegioneService(wsdl(op));
            Fixture f = fx(op);
            for (String caso : casi.keySet()) {
                VerificaAssistitoFuoriRegionePT port = porta(svc.getVerificaAssistitoFuoriRegionePort(validazione()),
                    "http://127.0.0.1:" + server.getAddress().getPort() + "/" + caso, null);
                VerificaAssistitoFuoriRegioneRichiesta r = new VerificaAssistitoFuoriRegioneRichiesta();
                r.setCodiceFiscale(f.s("codiceFiscale"));
                r.setNumeroTessera(f.s("numeroTessera"));
                r.setDataScadenzaTessera(f.date("dataScadenzaTessera"));
                registro.reset();
                try {
                    port.verificaAssistitoFuoriRegione(r);
                    esiti.put(caso, "OK");
                } catch (tsgate.client.verificaassistitofuoriregione.ErroreGateway_Exception e) {
                    esiti.put(caso, "fault " + e.getFaultInfo().getCodice());
                } catch (Exception e) {
                    System.err.println("autoverifica " + caso + ": " + e);
                    esiti.put(caso, e.getClass().getSimpleName());
                }
            }
        } finally {
            server.stop(0);
        }
        return esiti;
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: Client AMBIENTE.json");
            System.exit(2);
        }
        Map<String, Object> env = obj(Json.parse(Files.readString(Paths.get(args[0]))));
        base = (String) env.get("base_url");
        ca = (String) env.get("ca");
        bundle = Paths.get((String) env.get("bundle"));
        fixtures = Paths.get((String) env.get("fixtures"));
        callers = obj(env.get("callers"));
        for (Object o : (List<?>) env.get("operations")) {
            Map<String, Object> op = obj(o);
            operazioni.put((String) op.get("name"), op);
        }
        SchemaFactory sf = SchemaFactory.newInstance(XMLConstants.W3C_XML_SCHEMA_NS_URI);
        registro = new Registro(sf.newSchema(bundle.resolve("ErroreGateway.xsd").toFile()));

        Map<String, Object> validazione = new LinkedHashMap<>();
        validazione.put("autoverifica", autoverifica());
        registro.risposte = 0;
        registro.dettagli = 0;

        for (String op : operazioni.keySet()) chiama(op);

        validazione.put("risposte_validate", registro.risposte);
        validazione.put("dettagli_validati", registro.dettagli);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("stack", com.sun.xml.ws.util.RuntimeVersion.VERSION + " on Java " + System.getProperty("java.version"));
        out.put("time_zone", java.util.TimeZone.getDefault().getID());
        out.put("valid", valid);
        out.put("faults", faults);
        out.put("date_sul_filo", dateSulFilo);
        out.put("tipi", tipi);
        out.put("validazione", validazione);
        out.put("errori", errori);
        System.out.println(Json.write(out));
    }
}
