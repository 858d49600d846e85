//! A recording HTTP proxy on 127.0.0.1, to see every request the tool sends to AWS.
//!
//! The tool is pointed at the proxy with `--endpoint-url http://127.0.0.1:PORT`; the SDK then
//! speaks plain HTTP/1.1 to it (keep-alive, `Content-Length` or chunked bodies). The proxy
//! records each request, forwards it unchanged to the upstream server (moto) on a fresh
//! connection, and relays the answer. The `Host` header is kept as the client sent it, so
//! SigV4 signatures still verify upstream.
//!
//! [`Recorded::operation`] names what a request does: for S3 the method, path and query
//! (`GET /bucket?encryption`); for KMS (JSON protocol) the `X-Amz-Target` header
//! (`TrentService.DescribeKey`); for IAM and STS (query protocol) the `Action` parameter of
//! the form body. The service is read from the SigV4 credential scope of `Authorization`.
//!
//! Plain `std`: a listener thread and one thread per client connection. Nothing here talks
//! to anything but 127.0.0.1.

use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long a connection may stay silent before the proxy drops it.
const IDLE: Duration = Duration::from_secs(60);
/// Limits that keep a confused peer from eating the test's memory.
const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 64 * 1024 * 1024;

/// One request as the client sent it, with the upstream's status code.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// The request target: path and query, as sent.
    pub target: String,
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
    /// What upstream answered (`None` when forwarding failed).
    pub status: Option<u16>,
}

/// What a request does, by the conventions of its service's protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// REST-XML (S3): the method, the path and the raw query string (without `?`).
    S3 {
        method: String,
        path: String,
        query: String,
    },
    /// JSON protocol (KMS): the `X-Amz-Target` header, e.g. `TrentService.DescribeKey`.
    Json { service: String, target: String },
    /// Query protocol (IAM, STS): the `Action` parameter, e.g. `GetRole`.
    Query { service: String, action: String },
    /// Anything the proxy cannot place (never expected from the tool).
    Unknown {
        service: String,
        method: String,
        target: String,
    },
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operation::S3 {
                method,
                path,
                query,
            } if query.is_empty() => write!(f, "s3 {method} {path}"),
            Operation::S3 {
                method,
                path,
                query,
            } => write!(f, "s3 {method} {path}?{query}"),
            Operation::Json { service, target } => write!(f, "{service} {target}"),
            Operation::Query { service, action } => write!(f, "{service} Action={action}"),
            Operation::Unknown {
                service,
                method,
                target,
            } => write!(f, "{service}? {method} {target}"),
        }
    }
}

impl Recorded {
    /// The first header of this name, case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn path(&self) -> &str {
        self.target.split_once('?').map_or(&self.target, |(p, _)| p)
    }

    pub fn query(&self) -> &str {
        self.target.split_once('?').map_or("", |(_, q)| q)
    }

    /// The service of the SigV4 credential scope (`Credential=AKID/DATE/REGION/SERVICE/
    /// aws4_request`), or `""` for an unsigned request.
    pub fn service(&self) -> String {
        let Some(auth) = self.header("authorization") else {
            return String::new();
        };
        auth.split([' ', ','])
            .find_map(|part| part.trim().strip_prefix("Credential="))
            .and_then(|scope| scope.split('/').nth(3))
            .unwrap_or_default()
            .to_string()
    }

    /// A form parameter of a query-protocol request (the body, else the URL query).
    pub fn form_param(&self, name: &str) -> Option<String> {
        let body = String::from_utf8_lossy(&self.body);
        [body.as_ref(), self.query()]
            .into_iter()
            .flat_map(|text| text.split('&'))
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| {
                percent_encoding::percent_decode_str(&v.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            })
    }

    pub fn operation(&self) -> Operation {
        let service = self.service();
        if let Some(target) = self.header("x-amz-target") {
            return Operation::Json {
                service,
                target: target.to_string(),
            };
        }
        if service == "s3" {
            return Operation::S3 {
                method: self.method.clone(),
                path: self.path().to_string(),
                query: self.query().to_string(),
            };
        }
        if let Some(action) = self.form_param("Action") {
            return Operation::Query { service, action };
        }
        Operation::Unknown {
            service,
            method: self.method.clone(),
            target: self.target.clone(),
        }
    }
}

/// The proxy. Stops accepting when dropped; connections in flight end when their client
/// closes them (the tool's process exits) or after [`IDLE`].
pub struct Proxy {
    pub port: u16,
    requests: Arc<Mutex<Vec<Recorded>>>,
    problems: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Proxy {
    /// A proxy in front of `upstream` (e.g. `http://127.0.0.1:5000`).
    pub fn start(upstream: &str) -> Proxy {
        Proxy::start_answering(upstream, |_| None)
    }

    /// A proxy in front of `upstream` that answers the requests `answer` takes (`Some`)
    /// itself and forwards the others: for the few answers where moto and AWS differ.
    pub fn start_answering(upstream: &str, answer: fn(&Recorded) -> Option<Response>) -> Proxy {
        let upstream: SocketAddr = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .unwrap_or_else(|e| panic!("proxy upstream `{upstream}` is not 127.0.0.1:PORT: {e}"));
        assert!(
            upstream.ip().is_loopback(),
            "the proxy only forwards to loopback"
        );
        Proxy::serve(move |client, log, problems| {
            relay(client, upstream, answer, log, problems);
        })
    }

    /// A server on 127.0.0.1 that answers every request itself with `answer` (and records it
    /// like the proxy does): a stand-in for AWS that says exactly what a test wants.
    pub fn stub(answer: fn(&Recorded) -> Response) -> Proxy {
        Proxy::serve(move |client, log, problems| {
            serve_stub(client, answer, log, problems);
        })
    }

    fn serve<F>(handle: F) -> Proxy
    where
        F: Fn(TcpStream, Arc<Mutex<Vec<Recorded>>>, Arc<Mutex<Vec<String>>>)
            + Send
            + Sync
            + Clone
            + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy on 127.0.0.1");
        listener
            .set_nonblocking(true)
            .expect("nonblocking listener");
        let port = listener.local_addr().expect("proxy address").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let problems = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (requests, problems, stop) = (requests.clone(), problems.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((client, _)) => {
                            let (handle, requests, problems) =
                                (handle.clone(), requests.clone(), problems.clone());
                            std::thread::spawn(move || {
                                let _ = client.set_nonblocking(false);
                                handle(client, requests, problems)
                            });
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(10)),
                    }
                }
            })
        };
        Proxy {
            port,
            requests,
            problems,
            stop,
            thread: Some(thread),
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every request recorded so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// What went wrong inside the proxy (unparseable traffic, upstream unreachable): a test
    /// that relies on the proxy being transparent asserts this is empty.
    pub fn problems(&self) -> Vec<String> {
        self.problems.lock().map(|p| p.clone()).unwrap_or_default()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A response for [`Proxy::stub`].
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

fn note(problems: &Mutex<Vec<String>>, what: String) {
    if let Ok(mut p) = problems.lock() {
        p.push(what);
    }
}

/// Serves one client connection: request after request until the client closes it.
fn relay(
    client: TcpStream,
    upstream: SocketAddr,
    answer_here: fn(&Recorded) -> Option<Response>,
    log: Arc<Mutex<Vec<Recorded>>>,
    problems: Arc<Mutex<Vec<String>>>,
) {
    let _ = client.set_read_timeout(Some(IDLE));
    let Ok(mut writer) = client.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(client);
    loop {
        let (mut request, raw) = match read_request(&mut reader) {
            Ok(Some(r)) => r,
            Ok(None) => return,
            Err(e) => {
                if e.kind() != io::ErrorKind::WouldBlock && e.kind() != io::ErrorKind::TimedOut {
                    note(&problems, format!("reading a request: {e}"));
                }
                return;
            }
        };
        let close = request
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let answer = match answer_here(&request) {
            Some(response) => Ok(response),
            None => forward(upstream, &request, &raw),
        };
        request.status = answer.as_ref().ok().map(|r| r.status);
        if let Ok(mut l) = log.lock() {
            l.push(request.clone());
        }
        let response = match answer {
            Ok(r) => r,
            Err(e) => {
                note(
                    &problems,
                    format!("forwarding {} {}: {e}", request.method, request.target),
                );
                return;
            }
        };
        if write_response(&mut writer, &request.method, &response).is_err() || close {
            return;
        }
    }
}

fn serve_stub(
    client: TcpStream,
    answer: fn(&Recorded) -> Response,
    log: Arc<Mutex<Vec<Recorded>>>,
    problems: Arc<Mutex<Vec<String>>>,
) {
    let _ = client.set_read_timeout(Some(IDLE));
    let Ok(mut writer) = client.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(client);
    loop {
        let (mut request, _) = match read_request(&mut reader) {
            Ok(Some(r)) => r,
            Ok(None) => return,
            Err(e) => {
                if e.kind() != io::ErrorKind::WouldBlock && e.kind() != io::ErrorKind::TimedOut {
                    note(&problems, format!("reading a request: {e}"));
                }
                return;
            }
        };
        let response = answer(&request);
        request.status = Some(response.status);
        if let Ok(mut l) = log.lock() {
            l.push(request.clone());
        }
        if write_response(&mut writer, &request.method, &response).is_err() {
            return;
        }
    }
}

/// Reads one line ending in `\n`, bounded.
fn read_line(reader: &mut impl BufRead, limit: usize) -> io::Result<Option<String>> {
    let mut line = Vec::new();
    let n = reader
        .by_ref()
        .take(limit as u64)
        .read_until(b'\n', &mut line)?;
    if n == 0 {
        return Ok(None);
    }
    if !line.ends_with(b"\n") {
        return Err(io::Error::other("line too long or truncated"));
    }
    Ok(Some(
        String::from_utf8_lossy(&line)
            .trim_end_matches(['\r', '\n'])
            .to_string(),
    ))
}

/// Header lines up to the empty line.
fn read_headers(reader: &mut impl BufRead) -> io::Result<Vec<(String, String)>> {
    let mut headers = Vec::new();
    let mut size = 0;
    loop {
        let line = read_line(reader, MAX_HEAD)?
            .ok_or_else(|| io::Error::other("connection closed inside the headers"))?;
        if line.is_empty() {
            return Ok(headers);
        }
        size += line.len();
        if size > MAX_HEAD {
            return Err(io::Error::other("headers too large"));
        }
        let (k, v) = line
            .split_once(':')
            .ok_or_else(|| io::Error::other(format!("not a header line: {line:?}")))?;
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn is_chunked(headers: &[(String, String)]) -> bool {
    header(headers, "transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
}

/// A chunked body: returns the decoded body and the raw bytes as they came.
fn read_chunked(reader: &mut impl BufRead) -> io::Result<(Vec<u8>, Vec<u8>)> {
    let mut body = Vec::new();
    let mut raw = Vec::new();
    loop {
        let line = read_line(reader, MAX_HEAD)?
            .ok_or_else(|| io::Error::other("connection closed inside a chunked body"))?;
        raw.extend_from_slice(line.as_bytes());
        raw.extend_from_slice(b"\r\n");
        let size_text = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| io::Error::other(format!("bad chunk size {line:?}")))?;
        if size == 0 {
            // Trailers, then the empty line.
            loop {
                let t = read_line(reader, MAX_HEAD)?
                    .ok_or_else(|| io::Error::other("connection closed in trailers"))?;
                raw.extend_from_slice(t.as_bytes());
                raw.extend_from_slice(b"\r\n");
                if t.is_empty() {
                    return Ok((body, raw));
                }
            }
        }
        if body.len() + size > MAX_BODY {
            return Err(io::Error::other("body too large"));
        }
        let mut chunk = vec![0; size + 2];
        reader.read_exact(&mut chunk)?;
        raw.extend_from_slice(&chunk);
        chunk.truncate(size);
        body.extend_from_slice(&chunk);
    }
}

fn read_exact_body(reader: &mut impl BufRead, len: usize) -> io::Result<Vec<u8>> {
    if len > MAX_BODY {
        return Err(io::Error::other("body too large"));
    }
    let mut body = vec![0; len];
    reader.read_exact(&mut body)?;
    Ok(body)
}

/// One request from a client; `None` when the client closed the connection between
/// requests. Also returns the raw body bytes, to forward exactly as sent.
pub fn read_request(reader: &mut impl BufRead) -> io::Result<Option<(Recorded, Vec<u8>)>> {
    let line = loop {
        match read_line(reader, MAX_HEAD)? {
            None => return Ok(None),
            // Tolerate stray empty lines between requests (RFC 9112 §2.2).
            Some(l) if l.is_empty() => continue,
            Some(l) => break l,
        }
    };
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target), Some(_version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(io::Error::other(format!("not a request line: {line:?}")));
    };
    let headers = read_headers(reader)?;
    let (body, raw) = if is_chunked(&headers) {
        read_chunked(reader)?
    } else {
        let len = header(&headers, "content-length")
            .map(|v| v.parse::<usize>())
            .transpose()
            .map_err(|_| io::Error::other("bad Content-Length"))?
            .unwrap_or(0);
        let body = read_exact_body(reader, len)?;
        (body.clone(), body)
    };
    Ok(Some((
        Recorded {
            method: method.to_string(),
            target: target.to_string(),
            headers,
            body,
            status: None,
        },
        raw,
    )))
}

/// Sends the request upstream on a new connection (`Connection: close`) and reads the whole
/// answer.
fn forward(upstream: SocketAddr, request: &Recorded, raw_body: &[u8]) -> io::Result<Response> {
    let mut conn = TcpStream::connect_timeout(&upstream, Duration::from_secs(5))?;
    conn.set_read_timeout(Some(IDLE))?;
    conn.set_write_timeout(Some(IDLE))?;
    let mut head = format!("{} {} HTTP/1.1\r\n", request.method, request.target);
    for (k, v) in &request.headers {
        // Hop-by-hop headers are the proxy's business; `Expect` is dropped because the
        // proxy already holds the whole body.
        let hop = ["connection", "keep-alive", "proxy-connection", "expect"]
            .iter()
            .any(|h| k.eq_ignore_ascii_case(h));
        if !hop {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    head.push_str("Connection: close\r\n\r\n");
    conn.write_all(head.as_bytes())?;
    conn.write_all(raw_body)?;
    conn.flush()?;
    let mut reader = BufReader::new(conn);
    loop {
        let response = read_response(&mut reader, &request.method)?;
        // An interim 1xx answer is followed by the real one.
        if !(100..200).contains(&response.status) {
            return Ok(response);
        }
    }
}

/// One response; the body is framed by the method, the status and the headers.
fn read_response(reader: &mut impl BufRead, method: &str) -> io::Result<Response> {
    let line = read_line(reader, MAX_HEAD)?
        .ok_or_else(|| io::Error::other("upstream closed without answering"))?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::other(format!("not a status line: {line:?}")))?;
    let headers = read_headers(reader)?;
    let no_body = method.eq_ignore_ascii_case("HEAD")
        || (100..200).contains(&status)
        || status == 204
        || status == 304;
    let body = if no_body {
        Vec::new()
    } else if is_chunked(&headers) {
        read_chunked(reader)?.0
    } else if let Some(len) = header(&headers, "content-length") {
        let len = len
            .parse::<usize>()
            .map_err(|_| io::Error::other("bad Content-Length"))?;
        read_exact_body(reader, len)?
    } else {
        let mut rest = Vec::new();
        reader.take(MAX_BODY as u64).read_to_end(&mut rest)?;
        rest
    };
    Ok(Response {
        status,
        headers,
        body,
    })
}

/// Writes a response to the client, framed with `Content-Length` (a HEAD answer keeps the
/// upstream's, and has no body).
fn write_response(out: &mut impl Write, method: &str, r: &Response) -> io::Result<()> {
    let head_request = method.eq_ignore_ascii_case("HEAD");
    let mut head = format!("HTTP/1.1 {} {}\r\n", r.status, reason(r.status));
    for (k, v) in &r.headers {
        let framing = ["connection", "keep-alive", "transfer-encoding"]
            .iter()
            .any(|h| k.eq_ignore_ascii_case(h))
            || (!head_request && k.eq_ignore_ascii_case("content-length"));
        if !framing {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    let bodyless = head_request || r.status == 204 || r.status == 304;
    if !bodyless {
        head.push_str(&format!("Content-Length: {}\r\n", r.body.len()));
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes())?;
    if !bodyless {
        out.write_all(&r.body)?;
    }
    out.flush()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        301 => "Moved Permanently",
        307 => "Temporary Redirect",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}
