<?php
// The PHP stack of the integrator tests (tests/stack_php.rs): ext/soap's SoapClient in WSDL
// mode from the exported bundle, over mutual TLS with the caller's certificate, calls every
// operation of ambiente.json (tests/common/stack.rs) once with the fixture's data, as PHP
// values (xs:date as the Unix timestamp ext/soap formats itself, xs:boolean as bool, xs:int and
// xs:long as int), and once with an invalid request, reading the typed fault detail.
// ext/soap validates nothing it receives: every received body is validated here against the
// bundle's XSD (DOMDocument::schemaValidate, libxml2), and every request it wrote too.
//
// Usage: php client.php AMBIENTE.json
// Prints one JSON object (the last line of stdout); exits 1 on anything unexpected.

declare(strict_types=1);

const XS = 'http://www.w3.org/2001/XMLSchema';
const SOAP11 = 'http://schemas.xmlsoap.org/soap/envelope/';
const ERRORI = 'urn:tsgate:errori';

// ext/soap formats a timestamp with the C library's local time (TZ), PHP's own date functions
// use date.timezone: make them agree, so the timestamp of a day is that day for both.
function allinea_fuso(): void
{
    $tz = getenv('TZ');
    if ($tz === false || $tz === '') {
        $link = @readlink('/etc/localtime');
        $tz = ($link !== false && str_contains($link, 'zoneinfo/'))
            ? substr($link, strpos($link, 'zoneinfo/') + 9) : 'UTC';
    }
    date_default_timezone_set(ltrim($tz, ':'));
}

function carica_xml(string $path): DOMDocument
{
    $doc = new DOMDocument();
    if (!$doc->load($path, LIBXML_NONET)) {
        throw new RuntimeException("cannot read $path");
    }
    return $doc;
}

// The built-in XSD type of every element declared by an operation's schema, by local name,
// following simpleType restrictions through the imported schemas (TipiDati.xsd).
function tipi_elementi(string $bundle, string $op): array
{
    $semplici = [];
    foreach (glob("$bundle/*.xsd") as $xsd) {
        $doc = carica_xml($xsd);
        $tns = $doc->documentElement->getAttribute('targetNamespace');
        $xp = new DOMXPath($doc);
        $xp->registerNamespace('xs', XS);
        foreach ($xp->query('//xs:simpleType[@name]/xs:restriction[@base]') as $r) {
            $nome = $r->parentNode->getAttribute('name');
            $semplici["{{$tns}}$nome"] = qname($r, $r->getAttribute('base'));
        }
    }
    $risolvi = function (string $q) use (&$semplici): string {
        for ($i = 0; $i < 20 && isset($semplici[$q]); $i++) {
            $q = $semplici[$q];
        }
        return $q;
    };
    $doc = carica_xml("$bundle/$op.xsd");
    $xp = new DOMXPath($doc);
    $xp->registerNamespace('xs', XS);
    $tipi = [];
    foreach ($xp->query('//xs:element[@name and @type]') as $e) {
        $t = $risolvi(qname($e, $e->getAttribute('type')));
        if (str_starts_with($t, '{' . XS . '}')) {
            $tipi[$e->getAttribute('name')] = substr($t, strlen(XS) + 2);
        }
    }
    return $tipi;
}

function qname(DOMElement $ctx, string $q): string
{
    [$prefix, $local] = str_contains($q, ':') ? explode(':', $q, 2) : [null, $q];
    return '{' . $ctx->lookupNamespaceURI($prefix) . '}' . $local;
}

// The Unix timestamp ext/soap turns into the xs:date `$giorno` (noon of that day, local time).
function giorno(string $giorno): int
{
    $d = DateTimeImmutable::createFromFormat('!Y-m-d', $giorno);
    if ($d === false) {
        throw new RuntimeException("not a date: $giorno");
    }
    return $d->setTime(12, 0)->getTimestamp();
}

function nativo(string $testo, ?string $tipo)
{
    switch ($tipo) {
        case 'date':
            return giorno($testo);
        case 'boolean':
            return $testo === 'true' || $testo === '1';
        case 'int':
        case 'long':
        case 'short':
        case 'integer':
            return (int) $testo;
        default:
            return $testo;
    }
}

// The fixture's request as the parameters of the call: each child of the Richiesta, repeated
// ones as a list.
function parametri(string $fixture, array $tipi): array
{
    $doc = carica_xml($fixture);
    $body = $doc->getElementsByTagNameNS(SOAP11, 'Body')->item(0);
    $richiesta = figli($body)[0];
    $p = [];
    foreach (figli($richiesta) as $c) {
        $v = nativo($c->textContent, $tipi[$c->localName] ?? null);
        if (array_key_exists($c->localName, $p)) {
            $p[$c->localName] = array_merge((array) $p[$c->localName], [$v]);
        } else {
            $p[$c->localName] = $v;
        }
    }
    return $p;
}

function figli(DOMNode $n): array
{
    $out = [];
    foreach ($n->childNodes as $c) {
        if ($c instanceof DOMElement) {
            $out[] = $c;
        }
    }
    return $out;
}

// One invalid request per operation: the fixture's data with one value that breaks a facet of
// the schema (a native value still, of the right PHP type).
function invalido(string $op, array $p): array
{
    switch ($op) {
        case 'ElencoSerieCarte':
            return ['sigla' => 'X1'];
        case 'ElencoRevoche':
            return ['numeroMassimo' => 0] + $p;
        case 'ConfermaRevoche':
            return ['idComunicazione' => [0]];
        case 'TrasmissionePrenotazione':
        case 'TrasmissioneSomministrazione':
            return array_merge($p, ['dose' => 0]);
        default:
            return array_merge($p, ['numeroTessera' => '123']);
    }
}

// The Body's first child of a SOAP message, alone in a document of its own.
function corpo(string $xml, string $dove): DOMDocument
{
    $env = new DOMDocument();
    if (!$env->loadXML($xml, LIBXML_NONET)) {
        throw new RuntimeException("$dove: not XML");
    }
    $body = $env->getElementsByTagNameNS(SOAP11, 'Body')->item(0);
    if ($body === null || !figli($body)) {
        throw new RuntimeException("$dove: no SOAP Body child");
    }
    return solo(figli($body)[0]);
}

function solo(DOMElement $e): DOMDocument
{
    $doc = new DOMDocument();
    $doc->appendChild($doc->importNode($e, true));
    return $doc;
}

function valida(DOMDocument $doc, string $xsd, string $dove): void
{
    libxml_use_internal_errors(true);
    libxml_clear_errors();
    $ok = $doc->schemaValidate($xsd);
    $errori = array_map(fn($e) => trim($e->message), libxml_get_errors());
    libxml_clear_errors();
    if (!$ok) {
        throw new RuntimeException("$dove: not valid against " . basename($xsd) . ': '
            . implode('; ', $errori) . ': ' . $doc->saveXML($doc->documentElement));
    }
}

// The text of every date element in the request ext/soap wrote.
function date_scritte(string $xml, array $tipi): array
{
    $doc = corpo($xml, 'request');
    $out = [];
    foreach ($doc->getElementsByTagName('*') as $e) {
        if (($tipi[$e->localName] ?? null) === 'date') {
            $out[$e->localName] = $e->textContent;
        }
    }
    return $out;
}

function main(array $argv): array
{
    allinea_fuso();
    $env = json_decode(file_get_contents($argv[1]), true, 512, JSON_THROW_ON_ERROR);
    $bundle = $env['bundle'];
    $out = [
        'stack' => 'php ' . PHP_VERSION . ' ext/soap, libxml ' . LIBXML_DOTTED_VERSION,
        'fuso' => date_default_timezone_get(),
        'valid' => [],
        'faults' => [],
        'date_inviate' => [],
        'validati' => 0,
    ];
    foreach ($env['operations'] as $o) {
        $op = $o['name'];
        $caller = $env['callers'][$o['caller']];
        $ctx = stream_context_create(['ssl' => [
            'local_cert' => $caller['pem'],
            'cafile' => $env['ca'],
            'verify_peer' => true,
            'verify_peer_name' => true,
        ]]);
        $client = new SoapClient($o['wsdl'], [
            'soap_version' => SOAP_1_1,
            'exceptions' => true,
            'trace' => true,
            'cache_wsdl' => WSDL_CACHE_NONE,
            'stream_context' => $ctx,
            'features' => SOAP_SINGLE_ELEMENT_ARRAYS,
            'connection_timeout' => 30,
        ]);
        $tipi = tipi_elementi($bundle, $op);
        $xsd = "$bundle/$op.xsd";
        $p = parametri("{$env['fixtures']}/$op.xml", $tipi);

        // The valid call.
        try {
            $r = $client->__soapCall($op, [$p]);
            $out['valid'][$op] = json_decode(json_encode($r), true);
            valida(corpo($client->__getLastResponse(), "$op response"), $xsd, "$op response");
            $out['validati']++;
        } catch (SoapFault $f) {
            $out['valid'][$op] = ['esito' => null, 'fault' => guasto($f, $client, $bundle, $out)];
        }
        valida(corpo($client->__getLastRequest(), "$op request"), $xsd, "$op request");
        $sent = date_scritte($client->__getLastRequest(), $tipi);
        if ($sent) {
            $out['date_inviate'][$op] = $sent;
        }
        if ($client->__getLastRequestHeaders() !== null
            && !str_contains($client->__getLastRequestHeaders(), "\"{$o['soap_action']}\"")) {
            throw new RuntimeException("$op: SOAPAction not sent: " . $client->__getLastRequestHeaders());
        }

        // The invalid one.
        try {
            $client->__soapCall($op, [invalido($op, $p)]);
            throw new RuntimeException("$op: the invalid request was accepted: "
                . $client->__getLastRequest());
        } catch (SoapFault $f) {
            $out['faults'][$op] = guasto($f, $client, $bundle, $out);
        }
    }
    return $out;
}

// A fault as the report wants it, from the typed detail ext/soap decoded with the WSDL's
// wsdl:fault; the detail as received is validated against ErroreGateway.xsd.
function guasto(SoapFault $f, SoapClient $client, string $bundle, array &$out): array
{
    $raw = $client->__getLastResponse();
    if ($raw === null || $raw === '') {
        throw $f; // not an answer of the gateway (TLS, connection): let it fail
    }
    $env = new DOMDocument();
    $env->loadXML($raw, LIBXML_NONET);
    $det = $env->getElementsByTagNameNS(ERRORI, 'erroreGateway')->item(0);
    if ($det === null) {
        throw new RuntimeException("fault without erroreGateway detail: $raw");
    }
    valida(solo($det), "$bundle/ErroreGateway.xsd", 'fault detail');
    $out['validati']++;
    $e = $f->detail->erroreGateway ?? null;
    return [
        'faultcode' => $f->faultcode,
        'faultstring' => $f->faultstring,
        'codice' => $e->codice ?? null,
        'descrizione' => $e->descrizione ?? null,
        'identificativoTransazione' => $e->identificativoTransazione ?? null,
    ];
}

try {
    $out = main($argv);
    echo json_encode($out, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR), "\n";
} catch (Throwable $e) {
    fwrite(STDERR, $e . "\n");
    echo json_encode(['error' => get_class($e) . ': ' . $e->getMessage()]), "\n";
    exit(1);
}
