//! The request road: admission, limits, envelope, dispatch, access log, answer. Every SOAP
//! request ends in `finish`, which commits its access-log row before a single byte is answered.
//! The contract documents (`?wsdl`, `?xsd=`) are not transactions and get no row.

use super::envelope::{self, EnvelopeError};
use super::{batch, operation, Fault, FaultCode, Operation, Outcome, RequestCtx};
use crate::access::{Caller, RateDecision, TipoChiamante};
use crate::audit::{AccessRecord, LogFields};
use crate::db::DbError;
use crate::flussi;
use crate::state::AppState;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use http::header::{HeaderValue, CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::{field, Instrument};
use uuid::Uuid;

/// What the TLS layer learnt about the connection.
#[derive(Debug)]
pub struct ConnInfo {
    pub peer_ip: IpAddr,
    /// SHA-256 fingerprint of the client certificate.
    pub fingerprint: Option<String>,
    /// The registered caller owning that certificate, if any.
    pub caller: Option<Arc<Caller>>,
}

impl ConnInfo {
    /// The caller id written to the access log: its name, or the unknown certificate.
    fn caller_id(&self) -> Option<String> {
        match (&self.caller, &self.fingerprint) {
            (Some(c), _) => Some(c.nome.clone()),
            (None, Some(f)) => Some(format!("sha256:{f}")),
            (None, None) => None,
        }
    }
}

/// A request that went all the way: a SOAP answer, or a contract document.
enum Answer {
    Soap {
        body: String,
        esito: &'static str,
        log: LogFields,
        /// The row was committed with the handler's own writes.
        logged: bool,
    },
    Document(String),
    /// A bulk-file answer (`flussi`): its own status and XML document.
    Flusso(flussi::http::Reply),
}

type Refusal = (Fault, LogFields);

/// Per-request facts gathered along the road.
struct Exchange {
    tx: Uuid,
    ts: DateTime<Utc>,
    started: Instant,
    operation: Option<&'static Operation>,
    /// The operation name when it is not a SOAP operation (bulk files).
    op_name: Option<&'static str>,
    rate: Option<RateDecision>,
    /// The row was committed with the request's batch (`soap::batch`).
    logged: bool,
}

/// Serves one HTTP request of a mutually authenticated connection.
pub async fn handle<B>(
    state: Arc<AppState>,
    conn: Arc<ConnInfo>,
    req: Request<B>,
) -> Response<Full<Bytes>>
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    // The caller is looked up for every request, so a revoked, disabled or moved caller is
    // refused on a connection opened before the change (after the next registry reload).
    let conn = Arc::new(ConnInfo {
        peer_ip: conn.peer_ip,
        caller: conn
            .fingerprint
            .as_deref()
            .and_then(|f| state.registry.snapshot().caller_by_fingerprint(f)),
        fingerprint: conn.fingerprint.clone(),
    });
    let mut ex = Exchange {
        tx: Uuid::now_v7(),
        ts: Utc::now(),
        started: Instant::now(),
        operation: None,
        op_name: None,
        rate: None,
        logged: false,
    };
    let span = tracing::info_span!(
        "request",
        transaction_id = %ex.tx,
        caller = conn.caller.as_ref().map(|c| c.nome.as_str()).unwrap_or("-"),
        ip = %conn.peer_ip,
        operation = field::Empty,
        esito = field::Empty,
    );
    let tx = ex.tx;
    // Its own task: if the client goes away, hyper drops this future, but the request still
    // runs to the end and its access-log row is committed.
    let task = tokio::spawn(
        async move {
            state.metrics.in_flight().inc();
            let result = match state.concurrency.clone().try_acquire_owned() {
                Ok(permit) => {
                    let r = process(&state, &conn, &mut ex, req).await;
                    finish(&state, &conn, &ex, r, Some(permit)).await
                }
                Err(_) => {
                    finish(
                        &state,
                        &conn,
                        &ex,
                        Err((Fault::new(FaultCode::Overloaded), LogFields::default())),
                        None,
                    )
                    .await
                }
            };
            state.metrics.in_flight().dec();
            result
        }
        .instrument(span),
    );
    match task.await {
        Ok(response) => response,
        Err(e) => {
            tracing::error!(transaction_id = %tx, error = %e, "request task failed");
            let fault = Fault::new(FaultCode::Internal);
            respond(
                fault.code.status(),
                fault.to_envelope(&tx.to_string()),
                None,
            )
        }
    }
}

async fn process<B>(
    state: &AppState,
    conn: &ConnInfo,
    ex: &mut Exchange,
    req: Request<B>,
) -> Result<Answer, Refusal>
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let refuse = |code: FaultCode| (Fault::new(code), LogFields::default());
    if req.uri().path().starts_with(flussi::http::PREFIX) {
        return flussi(state, conn, ex, req).await;
    }
    let op = operation::by_path(state.operations, req.uri().path())
        .ok_or_else(|| refuse(FaultCode::UnknownOperation))?;
    ex.operation = Some(op);
    tracing::Span::current().record("operation", op.name);

    let caller = identify(conn)?;
    if req.method() == Method::GET {
        let query = req.uri().query().unwrap_or("");
        return state
            .contracts
            .lookup(op.path, query)
            .map(|doc| Answer::Document(doc.to_owned()))
            .ok_or_else(|| refuse(FaultCode::UnknownOperation));
    }
    if req.method() != Method::POST {
        return Err(refuse(FaultCode::MethodNotAllowed));
    }
    entitle(state, ex, &caller, op.name, op.callers)?;
    let charset = check_content_type(&req).map_err(|f| (f, LogFields::default()))?;
    check_soap_action(&req, op).map_err(refuse)?;

    let body = read_body(state, req).await.map_err(refuse)?;
    let scanned = envelope::transcode(&body, charset)
        .and_then(|text| envelope::scan(&text, &state.xml_limits))
        .map_err(|e| (envelope_fault(&e), LogFields::default()))?;
    if let Some((ns, name)) = scanned.must_understand.first() {
        let what = format!("{{{}}}{}", ns.as_deref().unwrap_or(""), name);
        return Err((
            Fault::with_detail(FaultCode::MustUnderstand, what),
            LogFields::default(),
        ));
    }
    if scanned.body_ns.as_deref() != Some(op.request_ns) || scanned.body_local != op.request_element
    {
        return Err((
            Fault::with_detail(
                FaultCode::UnknownOperation,
                format!("elemento {} non atteso", scanned.body_local),
            ),
            LogFields::default(),
        ));
    }

    let ctx = RequestCtx {
        transaction_id: ex.tx,
        caller,
        operation: op.name,
        ts: ex.ts,
        peer_ip: conn.peer_ip,
        started: ex.started,
    };
    let body_xml = scanned.body_xml;
    // The handler and its row in one batch (look-ups or writes): the row is built here from
    // the outcome, and the answer leaves only once the batch committed.
    let (batches, handler) = match op.handler {
        operation::Handler::Read(h) => (&state.lookups, h),
        operation::Handler::Write(h) => (&state.writes, h),
    };
    let (caller_id, peer_ip) = (conn.caller_id(), conn.peer_ip);
    let (ts, tx, started, name) = (ex.ts, ex.tx, ex.started, op.name);
    let batched = batches
        .run(move |c| {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                handler(c, &ctx, &body_xml)
            }))
            .unwrap_or_else(|_| Err(DbError::Task("handler panicked".to_owned())));
            let keep = result.is_ok();
            let answer = soap_answer(result);
            // The row `finish` would write for this answer, unless the handler committed it.
            let row = match &answer {
                Ok(Answer::Soap {
                    esito,
                    log,
                    logged: false,
                    ..
                }) => Some((Ok(*esito), log.clone())),
                Err((fault, log)) => Some((Err(fault.code.code()), log.clone())),
                _ => None,
            }
            .map(|(code, log)| {
                AccessRecord::new(ts, tx, Some(name), caller_id, peer_ip, code, log)
                    .durata_da(started)
            });
            batch::Member {
                keep,
                value: answer,
                row,
            }
        })
        .await;
    match batched {
        Ok(answer) => {
            ex.logged = true;
            answer
        }
        Err(e) => {
            tracing::error!(error = %e, "batch not committed");
            Err(refuse(FaultCode::Unavailable))
        }
    }
}

/// A handler's result as the pipeline answers it: its SOAP answer, its fault, or 503 / 500 for
/// a database that failed it.
fn soap_answer(result: Result<Outcome, DbError>) -> Result<Answer, Refusal> {
    let refuse = |code: FaultCode| (Fault::new(code), LogFields::default());
    match result {
        Ok(Outcome {
            response: Ok((body, esito)),
            log,
            logged,
        }) => Ok(Answer::Soap {
            body,
            esito,
            log,
            logged,
        }),
        Ok(Outcome {
            response: Err(fault),
            log,
            ..
        }) => Err((fault, log)),
        Err(DbError::Unavailable(e)) => {
            tracing::warn!(error = %e, "database unavailable");
            Err(refuse(FaultCode::Unavailable))
        }
        Err(e) => {
            tracing::error!(error = %e, "handler failed");
            Err(refuse(FaultCode::Internal))
        }
    }
}

/// Bulk files: the same admission as SOAP calls (caller, IP ranges, entitlement, rate limit),
/// then the bulk module answers.
async fn flussi<B>(
    state: &AppState,
    conn: &ConnInfo,
    ex: &mut Exchange,
    req: Request<B>,
) -> Result<Answer, Refusal>
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let op = flussi::http::operation(state.generi, &req)
        .map_err(|code| (Fault::new(code), LogFields::default()))?;
    ex.op_name = Some(op);
    tracing::Span::current().record("operation", op);
    let caller = identify(conn)?;
    entitle(
        state,
        ex,
        &caller,
        op,
        flussi::http::callers(state.generi, op),
    )?;
    let ctx = RequestCtx {
        transaction_id: ex.tx,
        caller,
        operation: op,
        ts: ex.ts,
        peer_ip: conn.peer_ip,
        started: ex.started,
    };
    flussi::http::serve(state, &ctx, req)
        .await
        .map(Answer::Flusso)
        .map_err(|f| (f, LogFields::default()))
}

/// The registered caller behind the certificate, calling from one of its ranges.
fn identify(conn: &ConnInfo) -> Result<Arc<Caller>, Refusal> {
    let refuse = |code: FaultCode| (Fault::new(code), LogFields::default());
    let caller = conn
        .caller
        .clone()
        .ok_or_else(|| refuse(FaultCode::UnknownCertificate))?;
    if !caller.allows_ip(conn.peer_ip) {
        return Err(refuse(FaultCode::IpNotAllowed));
    }
    Ok(caller)
}

/// The caller may call `op` (its entitlements, and a kind of caller the decree names for it)
/// and is within its rate limit.
fn entitle(
    state: &AppState,
    ex: &mut Exchange,
    caller: &Caller,
    op: &'static str,
    kinds: &[TipoChiamante],
) -> Result<(), Refusal> {
    let refuse = |code: FaultCode| (Fault::new(code), LogFields::default());
    if !caller.allows_operation(op) || !kinds.contains(&caller.tipo) {
        return Err(refuse(FaultCode::OperationNotAllowed));
    }
    let rate = caller.limiter.check(op);
    ex.rate = Some(rate);
    if let RateDecision::Limited { .. } = rate {
        state.metrics.rate_limited(op);
        return Err(refuse(FaultCode::RateLimited));
    }
    Ok(())
}

/// Commits the access-log row, then builds the response. A row that cannot be committed turns
/// the answer into a 503 fault: nothing is answered that is not logged.
async fn finish(
    state: &AppState,
    conn: &ConnInfo,
    ex: &Exchange,
    result: Result<Answer, Refusal>,
    permit: Option<tokio::sync::OwnedSemaphorePermit>,
) -> Response<Full<Bytes>> {
    let op_name = ex.op_name.or(ex.operation.map(|o| o.name));
    let tx = ex.tx.to_string();
    let mut logged = ex.logged;
    let (status, xml, outcome_code, log) = match result {
        Ok(Answer::Document(doc)) => {
            drop(permit);
            return respond(StatusCode::OK, doc, ex.rate);
        }
        Ok(Answer::Soap {
            body,
            esito,
            log,
            logged: in_handler,
        }) => {
            logged |= in_handler;
            (StatusCode::OK, wrap_body(&body), Ok(esito), log)
        }
        Ok(Answer::Flusso(r)) => {
            logged |= r.logged;
            (r.status, r.body, Ok(r.esito), LogFields::default())
        }
        Err((fault, log)) => {
            if fault.code == FaultCode::Internal {
                tracing::error!(code = fault.code.code(), "internal fault answered");
            } else {
                tracing::info!(
                    code = fault.code.code(),
                    detail = fault.detail.as_deref().unwrap_or(""),
                    "request refused"
                );
            }
            state.metrics.fault(fault.code.code());
            (
                fault.code.status(),
                fault.to_envelope(&tx),
                Err(fault.code.code()),
                log,
            )
        }
    };
    let esito_label = match outcome_code {
        Ok(e) | Err(e) => e,
    };
    tracing::Span::current().record("esito", esito_label);
    let committed = if logged {
        Ok(())
    } else {
        let record = AccessRecord::new(
            ex.ts,
            ex.tx,
            op_name,
            conn.caller_id(),
            conn.peer_ip,
            outcome_code,
            log,
        )
        .durata_da(ex.started);
        state.access_log.commit(record).await
    };
    drop(permit);
    state
        .metrics
        .request(op_name.unwrap_or("-"), esito_label, ex.started.elapsed());
    // By caller: registered callers only (an unknown certificate is "-"), a bounded label set.
    state.metrics.call(
        conn.caller.as_ref().map_or("", |c| c.nome.as_str()),
        op_name.unwrap_or("-"),
        esito_label,
    );
    match committed {
        Ok(()) => respond(status, xml, ex.rate),
        Err(e) => {
            tracing::error!(error = %e, "access-log row not committed: answering 503");
            let fault = Fault::new(FaultCode::Unavailable);
            state.metrics.fault(fault.code.code());
            respond(fault.code.status(), fault.to_envelope(&tx), None)
        }
    }
}

fn wrap_body(body: &str) -> String {
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            r#"<soapenv:Envelope xmlns:soapenv="{}"><soapenv:Body>{}</soapenv:Body></soapenv:Envelope>"#
        ),
        super::fault::SOAP11_NS,
        body
    )
}

fn respond(status: StatusCode, body: String, rate: Option<RateDecision>) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/xml; charset=utf-8"),
    );
    match rate {
        Some(RateDecision::Allowed { limit, remaining }) => {
            h.insert("x-ratelimit-limit", HeaderValue::from(limit));
            h.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
        }
        Some(RateDecision::Limited { limit, retry_after }) => {
            let secs = retry_after.as_millis().div_ceil(1000).max(1) as u64;
            h.insert("x-ratelimit-limit", HeaderValue::from(limit));
            h.insert("x-ratelimit-remaining", HeaderValue::from(0u32));
            h.insert("x-ratelimit-reset", HeaderValue::from(secs));
            h.insert(RETRY_AFTER, HeaderValue::from(secs));
        }
        None => {}
    }
    resp
}

/// SOAP 1.1 travels as text/xml; SOAP 1.2's application/soap+xml is a version mismatch. The
/// charset, when given, must be UTF-8 or UTF-16 (R1012).
fn check_content_type<B>(req: &Request<B>) -> Result<Option<envelope::Charset>, Fault> {
    let value = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut parts = value.split(';').map(str::trim);
    let mime = parts.next().unwrap_or("").to_ascii_lowercase();
    if mime == "application/soap+xml" {
        return Err(Fault::new(FaultCode::VersionMismatch));
    }
    if mime != "text/xml" {
        return Err(Fault::new(FaultCode::UnsupportedContentType));
    }
    let mut charset = None;
    for param in parts {
        if let Some((k, v)) = param.split_once('=') {
            if k.trim().eq_ignore_ascii_case("charset") {
                charset = Some(envelope::Charset::from_label(v).ok_or_else(|| {
                    Fault::with_detail(
                        FaultCode::NotUtf8,
                        format!("charset={} non supportato", v.trim().trim_matches('"')),
                    )
                })?);
            }
        }
    }
    Ok(charset)
}

/// The SOAPAction header must name the operation (quoted or not).
fn check_soap_action<B>(req: &Request<B>, op: &Operation) -> Result<(), FaultCode> {
    let action = req
        .headers()
        .get("soapaction")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().trim_matches('"'));
    match action {
        Some(a) if a == op.soap_action => Ok(()),
        _ => Err(FaultCode::WrongSoapAction),
    }
}

/// Reads the body up to `server.max_body_bytes`, within `server.request_timeout_ms`.
///
/// An oversized body is still read (and thrown away) up to [`LINGER_FACTOR`] times the limit
/// before the 413 fault is answered: a client that writes its whole body before reading — most
/// SOAP stacks do — would otherwise hit a reset connection and never see the fault. A client
/// that asked for `100-continue` has sent nothing yet and gets the fault at once.
async fn read_body<B>(state: &AppState, req: Request<B>) -> Result<Bytes, FaultCode>
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let max = state.config.server.max_body_bytes;
    let linger = max.saturating_mul(LINGER_FACTOR) as u64;
    let headers = req.headers();
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let waits_for_continue = headers
        .get(http::header::EXPECT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
    let deadline =
        tokio::time::Instant::now() + Duration::from_millis(state.config.server.request_timeout_ms);
    let mut body = std::pin::pin!(req.into_body());
    if let Some(n) = declared.filter(|&n| n > max as u64) {
        if !waits_for_continue && n <= linger {
            let _ = tokio::time::timeout_at(deadline, discard(&mut body, linger)).await;
        }
        return Err(FaultCode::TooLarge);
    }
    let read = async {
        let mut buf = bytes::BytesMut::with_capacity(declared.unwrap_or(0) as usize);
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| {
                tracing::info!(error = %e, "request body not received");
                FaultCode::Malformed
            })?;
            let Ok(data) = frame.into_data() else {
                continue;
            };
            if buf.len() + data.len() > max {
                let rest = linger.saturating_sub((buf.len() + data.len()) as u64);
                let _ = tokio::time::timeout_at(deadline, discard(&mut body, rest)).await;
                return Err(FaultCode::TooLarge);
            }
            buf.extend_from_slice(&data);
        }
        Ok(buf.freeze())
    };
    match tokio::time::timeout_at(deadline, read).await {
        Err(_) => Err(FaultCode::RequestTimeout),
        Ok(r) => r,
    }
}

/// How many times `server.max_body_bytes` an oversized body is read before its fault.
const LINGER_FACTOR: usize = 4;

/// Reads and drops up to `budget` more bytes of a body, stopping at its end or first error.
async fn discard<B>(body: &mut std::pin::Pin<&mut B>, mut budget: u64)
where
    B: hyper::body::Body<Data = Bytes>,
{
    while let Some(Ok(frame)) = body.frame().await {
        let n = frame.data_ref().map_or(0, |d| d.len() as u64);
        if n > budget {
            return;
        }
        budget -= n;
    }
}

/// Each envelope problem has its own stable fault code.
fn envelope_fault(e: &EnvelopeError) -> Fault {
    let code = match e {
        EnvelopeError::NotUtf8 => FaultCode::NotUtf8,
        EnvelopeError::Encoding(detail) => {
            return Fault::with_detail(FaultCode::NotUtf8, detail.clone())
        }
        EnvelopeError::Doctype => FaultCode::Doctype,
        EnvelopeError::ProcessingInstruction => FaultCode::ProcessingInstruction,
        EnvelopeError::EntityReference => FaultCode::EntityReference,
        EnvelopeError::TooDeep { .. } => FaultCode::TooDeep,
        EnvelopeError::TooManyAttributes { .. } => FaultCode::TooManyAttributes,
        EnvelopeError::TooManyChildren { .. } => FaultCode::TooManyChildren,
        EnvelopeError::AttributeTooLong { .. } => FaultCode::AttributeTooLong,
        EnvelopeError::Malformed(_) => FaultCode::Malformed,
        EnvelopeError::NotAnEnvelope => FaultCode::NotAnEnvelope,
        EnvelopeError::VersionMismatch => FaultCode::VersionMismatch,
        EnvelopeError::MissingBody
        | EnvelopeError::EmptyBody
        | EnvelopeError::MultipleBodyChildren
        | EnvelopeError::TextInBody => FaultCode::BodyNotSingle,
    };
    Fault::new(code)
}
