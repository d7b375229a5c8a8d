//! The HTTP side of the portal: a request reduced to what the pages need (method, path, query,
//! form fields, cookies) and the responses they give, each with the security headers.

use ::http::header::{self, HeaderValue};
use ::http::{Method, StatusCode};
use bytes::Bytes;
use http_body_util::Full;
use std::collections::HashMap;

/// Largest form body accepted, in bytes.
pub const MAX_FORM_BYTES: usize = 64 * 1024;

/// Name of the session cookie: `__Host-` binds it to this host, path `/`, Secure.
pub const SESSION_COOKIE: &str = "__Host-tsgate-sessione";

/// A portal request, parsed.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    pub path: String,
    pub query: HashMap<String, String>,
    /// The query string as sent (the HTTP-Redirect binding signs its encoded form).
    pub raw_query: String,
    pub form: HashMap<String, String>,
    pub cookies: HashMap<String, String>,
}

impl Request {
    pub fn new(
        method: Method,
        uri: &http::Uri,
        headers: &http::HeaderMap,
        corpo: &[u8],
    ) -> Request {
        let form = match headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
        {
            Some(ct) if ct.starts_with("application/x-www-form-urlencoded") => {
                form_pairs(&String::from_utf8_lossy(corpo))
            }
            _ => HashMap::new(),
        };
        let cookies = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|c| c.trim().split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        Request {
            method,
            path: uri.path().to_owned(),
            query: uri.query().map(form_pairs).unwrap_or_default(),
            raw_query: uri.query().unwrap_or("").to_owned(),
            form,
            cookies,
        }
    }

    /// A form field, trimmed ("" when absent).
    pub fn field(&self, nome: &str) -> &str {
        self.form.get(nome).map(|s| s.trim()).unwrap_or("")
    }

    /// A form field as typed (passwords are not trimmed).
    pub fn field_exact(&self, nome: &str) -> &str {
        self.form.get(nome).map(String::as_str).unwrap_or("")
    }
}

/// `application/x-www-form-urlencoded` pairs; a repeated name keeps its first value.
pub fn form_pairs(s: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for pair in s.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        out.entry(percent_decode(k))
            .or_insert_with(|| percent_decode(v));
    }
    out
}

/// A percent-encoded query or form value, `+` as a space.
pub fn percent_decode(s: &str) -> String {
    let piu = s.replace('+', " ");
    percent_encoding::percent_decode_str(&piu)
        .decode_utf8_lossy()
        .into_owned()
}

/// A portal response: a full body in memory.
pub type Response = ::http::Response<Full<Bytes>>;

fn with_security_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    let set = |h: &mut http::HeaderMap, k: header::HeaderName, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'",
    );
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::REFERRER_POLICY, "no-referrer");
    set(
        h,
        header::STRICT_TRANSPORT_SECURITY,
        "max-age=31536000; includeSubDomains",
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, header::CACHE_CONTROL, "no-store");
    }
    r
}

fn response(stato: StatusCode, tipo: &'static str, corpo: impl Into<Bytes>) -> Response {
    let mut r = ::http::Response::new(Full::new(corpo.into()));
    *r.status_mut() = stato;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(tipo));
    with_security_headers(r)
}

pub fn html(stato: StatusCode, corpo: String) -> Response {
    response(stato, "text/html; charset=utf-8", corpo)
}

/// A page whose only form goes to `destinazione` (another site: a SAML ACS), submitted by
/// `/static/sso_invio.js`; the CSP allows that script and that form target, nothing else.
pub fn html_with_form_action(stato: StatusCode, corpo: String, destinazione: &str) -> Response {
    let mut r = html(stato, corpo);
    let origine: String = destinazione
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, ';' | ',' | '\'' | '"'))
        .collect();
    let csp = format!(
        "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; \
         form-action {origine}; frame-ancestors 'none'; base-uri 'none'"
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        r.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    r
}

/// An XML document (the SAML metadata).
pub fn xml(corpo: String) -> Response {
    let mut r = response(StatusCode::OK, "application/samlmetadata+xml", corpo);
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    r
}

/// A `303 See Other` to a path of the portal.
pub fn redirect(a: &str) -> Response {
    let mut r = response(StatusCode::SEE_OTHER, "text/plain; charset=utf-8", "");
    if let Ok(v) = HeaderValue::from_str(a) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// A file to save, named `nome` (a name made by the gateway, never by a user).
pub fn attachment(tipo: &'static str, nome: &str, corpo: Vec<u8>) -> Response {
    let mut r = response(StatusCode::OK, tipo, corpo);
    let nome: String = nome
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{nome}\"")) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

pub fn static_asset(tipo: &'static str, corpo: &'static [u8]) -> Response {
    let mut r = response(StatusCode::OK, tipo, Bytes::from_static(corpo));
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    r
}

/// Adds the session cookie: `__Host-` prefix, Secure, HttpOnly, SameSite=Strict, path `/`.
/// `None` clears it.
pub fn set_session_cookie(r: &mut Response, token: Option<&str>) {
    let v = match token {
        Some(t) => format!("{SESSION_COOKIE}={t}; Path=/; Secure; HttpOnly; SameSite=Strict"),
        None => format!("{SESSION_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0"),
    };
    if let Ok(v) = HeaderValue::from_str(&v) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_are_decoded() {
        let f = form_pairs("codice=RSSMRA80A01H501U&parola=a%2Bb+c%26d&vuoto=&codice=altro");
        assert_eq!(f["codice"], "RSSMRA80A01H501U");
        assert_eq!(f["parola"], "a+b c&d");
        assert_eq!(f["vuoto"], "");
    }

    #[test]
    fn cookie_has_the_host_prefix_attributes() {
        let mut r = redirect("/");
        set_session_cookie(&mut r, Some("abc"));
        let c = r.headers()[header::SET_COOKIE].to_str().unwrap();
        assert!(c.starts_with("__Host-tsgate-sessione=abc; Path=/;"));
        for a in ["Secure", "HttpOnly", "SameSite=Strict"] {
            assert!(c.contains(a), "{c}");
        }
        assert!(!c.contains("Domain"));
    }
}
