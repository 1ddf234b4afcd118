//! The transport against small scripted HTTP servers on 127.0.0.1: the headers it sends, how it
//! hands up statuses, keep-alive and `Connection: close`, timeouts and resets, the per-account
//! ceiling, the NTLM re-authentication rule, and TLS certificate errors.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use ews_connector::secret::Secret;
use ews_connector::transport::{AuthScheme, Credentials, Error, Request, Settings, Transport};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

const PASSWORD: &str = "S3rvice!Pass";

/// One request as the server saw it.
#[derive(Clone, Debug)]
struct Recorded {
    connection: usize,
    request_line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Recorded {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// What the server does with one request.
enum Reply {
    Send(Vec<u8>),
    /// Close the connection without answering.
    Close,
    /// Never answer (keep the connection open).
    Hang,
}

/// Per-connection state the script can use.
#[derive(Default)]
struct ConnectionState {
    requests: usize,
    authenticated: bool,
}

type Script = Arc<dyn Fn(&Recorded, &mut ConnectionState) -> Reply + Send + Sync>;

struct TestServer {
    port: u16,
    recorded: Arc<Mutex<Vec<Recorded>>>,
    connections: Arc<AtomicUsize>,
    max_in_flight: Arc<AtomicUsize>,
    accept_task: JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.accept_task.abort();
    }
}

impl TestServer {
    async fn start(delay: Duration, script: Script) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let recorded = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let max_in_flight = Arc::new(AtomicUsize::new(0));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let accept_task = {
            let (recorded, connections, max_in_flight) =
                (recorded.clone(), connections.clone(), max_in_flight.clone());
            tokio::spawn(async move {
                let mut handlers = Vec::new();
                while let Ok((stream, _)) = listener.accept().await {
                    let id = connections.fetch_add(1, Ordering::SeqCst) + 1;
                    let context = (
                        recorded.clone(),
                        script.clone(),
                        in_flight.clone(),
                        max_in_flight.clone(),
                    );
                    handlers.push(AbortOnDrop(tokio::spawn(serve_connection(
                        stream, id, delay, context,
                    ))));
                }
            })
        };
        TestServer {
            port,
            recorded,
            connections,
            max_in_flight,
            accept_task,
        }
    }

    fn url(&self) -> url::Url {
        url::Url::parse(&format!("http://127.0.0.1:{}/EWS/Exchange.asmx", self.port)).unwrap()
    }

    fn recorded(&self) -> Vec<Recorded> {
        self.recorded.lock().unwrap().clone()
    }
}

struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

type Context = (
    Arc<Mutex<Vec<Recorded>>>,
    Script,
    Arc<AtomicUsize>,
    Arc<AtomicUsize>,
);

async fn serve_connection(stream: TcpStream, id: usize, delay: Duration, context: Context) {
    let (recorded, script, in_flight, max_in_flight) = context;
    let mut reader = BufReader::new(stream);
    let mut state = ConnectionState::default();
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).await.unwrap_or(0) == 0 {
            return;
        }
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').unwrap();
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
        let length: usize = headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
            .map(|(_, value)| value.parse().unwrap())
            .unwrap_or(0);
        let mut body = vec![0u8; length];
        reader.read_exact(&mut body).await.unwrap();
        let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        max_in_flight.fetch_max(now, Ordering::SeqCst);
        let request = Recorded {
            connection: id,
            request_line: request_line.trim_end().to_owned(),
            headers,
            body,
        };
        recorded.lock().unwrap().push(request.clone());
        state.requests += 1;
        let reply = script(&request, &mut state);
        tokio::time::sleep(delay).await;
        in_flight.fetch_sub(1, Ordering::SeqCst);
        match reply {
            Reply::Send(bytes) => {
                if reader.get_mut().write_all(&bytes).await.is_err() {
                    return;
                }
            }
            Reply::Close => return,
            Reply::Hang => std::future::pending::<()>().await,
        }
    }
}

fn http_response(status: u16, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut text = format!(
        "HTTP/1.1 {status} Status\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    text.push_str(body);
    text.into_bytes()
}

fn ok_xml(body: &str) -> Reply {
    Reply::Send(http_response(
        200,
        &[("Content-Type", "text/xml; charset=utf-8")],
        body,
    ))
}

fn basic_settings(url: url::Url) -> Settings {
    let mut settings = Settings::new(url, AuthScheme::Basic);
    settings.danger_allow_basic_over_http = true;
    settings.request_timeout = Duration::from_secs(10);
    settings.connect_timeout = Duration::from_secs(5);
    settings
}

fn credentials() -> Credentials {
    Credentials {
        username: "CONTOSO\\svc-mytt".to_owned(),
        password: Secret::new(PASSWORD),
    }
}

fn envelope() -> Request {
    Request {
        body: Bytes::from_static(b"<soap:Envelope/>"),
        ..Default::default()
    }
}

#[tokio::test]
async fn the_post_carries_the_ews_headers_and_the_body() {
    let server = TestServer::start(Duration::ZERO, Arc::new(|_, _| ok_xml("<ok/>"))).await;
    let mut settings = basic_settings(server.url());
    settings.user_agent = "ews-connector/9.9.9-test".to_owned();
    let transport = Transport::new(settings).unwrap();
    let request = Request {
        body: Bytes::from_static(b"<soap:Envelope>hello</soap:Envelope>"),
        anchor_mailbox: Some("room.101@contoso.example".to_owned()),
        client_request_id: Some("0d6f7c8e-1111-4222-8333-944455556666".to_owned()),
    };
    let response = transport.post(&credentials(), request).await.unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.body, Bytes::from_static(b"<ok/>"));

    let seen = server.recorded();
    assert_eq!(seen.len(), 1);
    let seen = &seen[0];
    assert_eq!(seen.request_line, "POST /EWS/Exchange.asmx HTTP/1.1");
    assert_eq!(
        seen.header("X-AnchorMailbox"),
        Some("room.101@contoso.example")
    );
    assert_eq!(seen.header("User-Agent"), Some("ews-connector/9.9.9-test"));
    assert_eq!(
        seen.header("client-request-id"),
        Some("0d6f7c8e-1111-4222-8333-944455556666")
    );
    assert_eq!(seen.header("return-client-request-id"), Some("true"));
    assert_eq!(seen.header("Content-Type"), Some("text/xml; charset=utf-8"));
    assert_eq!(
        seen.header("Host"),
        Some(format!("127.0.0.1:{}", server.port).as_str())
    );
    assert_eq!(seen.header("Content-Length"), Some("36"));
    assert_eq!(seen.body, b"<soap:Envelope>hello</soap:Envelope>");
    let expected = format!(
        "Basic {}",
        BASE64.encode(format!("CONTOSO\\svc-mytt:{PASSWORD}"))
    );
    assert_eq!(seen.header("Authorization"), Some(expected.as_str()));
}

#[tokio::test]
async fn optional_headers_are_left_out_when_not_given() {
    let server = TestServer::start(Duration::ZERO, Arc::new(|_, _| ok_xml("<ok/>"))).await;
    let transport = Transport::new(basic_settings(server.url())).unwrap();
    transport.post(&credentials(), envelope()).await.unwrap();
    let seen = &server.recorded()[0];
    assert_eq!(seen.header("X-AnchorMailbox"), None);
    assert_eq!(seen.header("client-request-id"), None);
    assert_eq!(seen.header("return-client-request-id"), None);
    assert_eq!(
        seen.header("User-Agent"),
        Some(format!("ews-connector/{}", env!("CARGO_PKG_VERSION")).as_str())
    );
}

#[tokio::test]
async fn a_soap_fault_with_500_is_handed_up_as_a_response() {
    const FAULT: &str = "<s:Envelope><s:Body><s:Fault><faultcode>a:ErrorServerBusy</faultcode></s:Fault></s:Body></s:Envelope>";
    let server = TestServer::start(
        Duration::ZERO,
        Arc::new(|_, _| {
            Reply::Send(http_response(
                500,
                &[("Content-Type", "text/xml; charset=utf-8")],
                FAULT,
            ))
        }),
    )
    .await;
    let transport = Transport::new(basic_settings(server.url())).unwrap();
    let response = transport.post(&credentials(), envelope()).await.unwrap();
    assert_eq!(response.status, 500);
    assert_eq!(response.body, FAULT.as_bytes());
    assert_eq!(
        response.content_type.as_deref(),
        Some("text/xml; charset=utf-8")
    );
    assert_eq!(response.retry_after, None);
}

#[tokio::test]
async fn retry_after_of_a_503_is_parsed() {
    let server = TestServer::start(
        Duration::ZERO,
        Arc::new(|_, state| {
            let retry_after = if state.requests == 1 {
                "30"
            } else {
                "Thu, 01 Jan 1970 00:00:00 GMT"
            };
            Reply::Send(http_response(
                503,
                &[("Retry-After", retry_after), ("Content-Type", "text/html")],
                "busy",
            ))
        }),
    )
    .await;
    let transport = Transport::new(basic_settings(server.url())).unwrap();
    let first = transport.post(&credentials(), envelope()).await.unwrap();
    assert_eq!(first.status, 503);
    assert_eq!(first.retry_after, Some(Duration::from_secs(30)));
    let second = transport.post(&credentials(), envelope()).await.unwrap();
    assert_eq!(
        second.retry_after,
        Some(Duration::ZERO),
        "a date in the past means retry now"
    );
}

#[tokio::test]
async fn keep_alive_connections_are_reused_and_closed_ones_are_not() {
    let server = TestServer::start(
        Duration::ZERO,
        Arc::new(|request, _| {
            if request.body == b"close" {
                Reply::Send(http_response(200, &[("Connection", "close")], "bye"))
            } else {
                ok_xml("<ok/>")
            }
        }),
    )
    .await;
    let transport = Transport::new(basic_settings(server.url())).unwrap();
    for _ in 0..3 {
        transport.post(&credentials(), envelope()).await.unwrap();
    }
    assert_eq!(transport.stats().connections_opened, 1);
    let close = Request {
        body: Bytes::from_static(b"close"),
        ..Default::default()
    };
    assert_eq!(
        transport.post(&credentials(), close).await.unwrap().body,
        Bytes::from_static(b"bye")
    );
    transport.post(&credentials(), envelope()).await.unwrap();
    assert_eq!(transport.stats().connections_opened, 2);
    let connections: Vec<usize> = server
        .recorded()
        .iter()
        .map(|request| request.connection)
        .collect();
    assert_eq!(connections, vec![1, 1, 1, 1, 2]);
}

#[tokio::test]
async fn a_server_that_never_answers_is_a_request_timeout() {
    let server = TestServer::start(Duration::ZERO, Arc::new(|_, _| Reply::Hang)).await;
    let mut settings = basic_settings(server.url());
    settings.request_timeout = Duration::from_millis(300);
    let transport = Transport::new(settings).unwrap();
    let started = std::time::Instant::now();
    match transport.post(&credentials(), envelope()).await {
        Err(Error::Timeout { phase, after, .. }) => {
            assert_eq!(phase, "request");
            assert_eq!(after, Duration::from_millis(300));
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_tls_handshake_that_never_completes_is_a_connect_timeout() {
    // A plain TCP listener that accepts and says nothing: the TLS handshake waits forever.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let _accept = AbortOnDrop(tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    }));
    let url = url::Url::parse(&format!("https://127.0.0.1:{port}/EWS/Exchange.asmx")).unwrap();
    let mut settings = Settings::new(url, AuthScheme::Ntlm);
    settings.connect_timeout = Duration::from_millis(300);
    let transport = Transport::new(settings).unwrap();
    match transport.post(&credentials(), envelope()).await {
        Err(Error::Timeout { phase, .. }) => assert_eq!(phase, "connect"),
        other => panic!("expected a connect timeout, got {other:?}"),
    }
    assert_eq!(transport.stats().connections_opened, 0);
}

#[tokio::test]
async fn a_connection_closed_without_answer_is_a_connect_error_not_a_timeout() {
    let server = TestServer::start(Duration::ZERO, Arc::new(|_, _| Reply::Close)).await;
    let transport = Transport::new(basic_settings(server.url())).unwrap();
    match transport.post(&credentials(), envelope()).await {
        Err(error @ Error::Connect { .. }) => {
            assert!(error.to_string().contains("closed"), "{error}")
        }
        other => panic!("expected a connect error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_refused_connection_is_a_connect_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let url = url::Url::parse(&format!("http://127.0.0.1:{port}/EWS/Exchange.asmx")).unwrap();
    let transport = Transport::new(Settings::new(url, AuthScheme::Ntlm)).unwrap();
    assert!(matches!(
        transport.post(&credentials(), envelope()).await,
        Err(Error::Connect { .. })
    ));
}

#[tokio::test]
async fn the_per_account_ceiling_is_never_exceeded() {
    let server =
        TestServer::start(Duration::from_millis(100), Arc::new(|_, _| ok_xml("<ok/>"))).await;
    let mut settings = basic_settings(server.url());
    settings.max_connections_per_account = 2;
    let transport = Transport::new(settings).unwrap();
    let other = Credentials {
        username: "CONTOSO\\svc-other".to_owned(),
        password: Secret::new("x"),
    };
    let mut tasks = Vec::new();
    for index in 0..8 {
        let transport = transport.clone();
        let credentials = if index % 2 == 0 {
            credentials()
        } else {
            other.clone()
        };
        tasks.push(tokio::spawn(async move {
            transport.post(&credentials, envelope()).await
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap().status, 200);
    }
    // Two accounts, two slots each: at most four requests in flight and four connections.
    assert!(server.max_in_flight.load(Ordering::SeqCst) <= 4);
    assert!(
        server.max_in_flight.load(Ordering::SeqCst) >= 3,
        "the two accounts do not block each other"
    );
    assert!(server.connections.load(Ordering::SeqCst) <= 4);
    let mut per_connection_user = std::collections::HashMap::new();
    for request in server.recorded() {
        let user = request.header("Authorization").unwrap().to_owned();
        let previous = per_connection_user.insert(request.connection, user.clone());
        assert!(
            previous.is_none_or(|previous| previous == user),
            "a connection served two accounts"
        );
    }
}

#[tokio::test]
async fn invalid_settings_are_refused_by_new() {
    let http = url::Url::parse("http://127.0.0.1:1/EWS/Exchange.asmx").unwrap();
    assert!(matches!(
        Transport::new(Settings::new(http.clone(), AuthScheme::Basic)),
        Err(Error::InsecureBasic)
    ));
    let mut zero = Settings::new(http.clone(), AuthScheme::Ntlm);
    zero.max_connections_per_account = 0;
    assert!(matches!(
        Transport::new(zero),
        Err(Error::InvalidSettings { .. })
    ));
    let ftp = url::Url::parse("ftp://127.0.0.1/EWS/Exchange.asmx").unwrap();
    assert!(matches!(
        Transport::new(Settings::new(ftp, AuthScheme::Ntlm)),
        Err(Error::InvalidSettings { .. })
    ));
    let https = url::Url::parse("https://127.0.0.1:1/EWS/Exchange.asmx").unwrap();
    let mut missing_ca = Settings::new(https, AuthScheme::Ntlm);
    missing_ca.ca_file = Some("/nonexistent/ca.pem".into());
    assert!(matches!(
        Transport::new(missing_ca),
        Err(Error::CaFile { .. })
    ));
}

#[tokio::test]
async fn debug_and_errors_never_show_the_password() {
    let url = url::Url::parse("https://mail.contoso.example/EWS/Exchange.asmx").unwrap();
    let settings = Settings::new(url, AuthScheme::Ntlm);
    let credentials = credentials();
    let printed = format!(
        "{settings:?} {credentials:?} {:?}",
        Transport::new(settings.clone()).unwrap()
    );
    assert!(!printed.contains(PASSWORD), "{printed}");
    assert!(format!("{credentials:?}").contains("***"));
    let mut with_userinfo = Settings::new(
        url::Url::parse(&format!(
            "https://svc:{PASSWORD}@mail.contoso.example/EWS/Exchange.asmx"
        ))
        .unwrap(),
        AuthScheme::Basic,
    );
    assert!(!format!("{with_userinfo:?}").contains(PASSWORD));
    assert!(matches!(
        Transport::new(with_userinfo.clone()),
        Err(Error::InvalidSettings { .. })
    ));
    with_userinfo.url.set_password(None).unwrap();
    assert!(
        matches!(
            Transport::new(with_userinfo),
            Err(Error::InvalidSettings { .. })
        ),
        "a username alone is refused too"
    );

    // The rejection error names the account but not the password.
    let server = TestServer::start(
        Duration::ZERO,
        Arc::new(|_, _| {
            Reply::Send(http_response(
                401,
                &[("WWW-Authenticate", "Basic realm=\"x\"")],
                "",
            ))
        }),
    )
    .await;
    let transport = Transport::new(basic_settings(server.url())).unwrap();
    let error = transport.post(&credentials, envelope()).await.unwrap_err();
    let shown = format!("{error} {error:?}");
    assert!(
        shown.contains("CONTOSO\\\\svc-mytt") || shown.contains("CONTOSO\\svc-mytt"),
        "{shown}"
    );
    assert!(!shown.contains(PASSWORD), "{shown}");
    assert!(
        !shown.contains(&BASE64.encode(format!("CONTOSO\\svc-mytt:{PASSWORD}"))),
        "{shown}"
    );
    assert_eq!(
        server.recorded().len(),
        1,
        "a rejected basic request is not retried"
    );
}

// --- NTLM against a lenient scripted acceptor -----------------------------------------------

/// A CHALLENGE message (MS-NLMP 2.2.1.2) with a timestamp in its target info.
fn challenge_message() -> Vec<u8> {
    let mut target_info = Vec::new();
    for (id, data) in [
        (2u16, utf16("CONTOSO")),
        (1, utf16("EX01")),
        (7, 133_000_000_000_000_000i64.to_le_bytes().to_vec()),
    ] {
        target_info.extend_from_slice(&id.to_le_bytes());
        target_info.extend_from_slice(&(data.len() as u16).to_le_bytes());
        target_info.extend_from_slice(&data);
    }
    target_info.extend_from_slice(&[0, 0, 0, 0]);
    let flags: u32 = 0x0000_0001
        | 0x0000_0200
        | 0x0000_8000
        | 0x0008_0000
        | 0x0080_0000
        | 0x2000_0000
        | 0x8000_0000;
    let mut message = b"NTLMSSP\0".to_vec();
    message.extend_from_slice(&2u32.to_le_bytes());
    message.extend_from_slice(&[0, 0, 0, 0, 56, 0, 0, 0]);
    message.extend_from_slice(&flags.to_le_bytes());
    message.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
    message.extend_from_slice(&[0; 8]);
    message.extend_from_slice(&(target_info.len() as u16).to_le_bytes());
    message.extend_from_slice(&(target_info.len() as u16).to_le_bytes());
    message.extend_from_slice(&56u32.to_le_bytes());
    message.extend_from_slice(&[0; 8]);
    message.extend_from_slice(&target_info);
    message
}

fn utf16(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn ntlm_type(request: &Recorded, scheme: &str) -> Option<u32> {
    let value = request.header("Authorization")?;
    let (given, token) = value.split_once(' ')?;
    if !given.eq_ignore_ascii_case(scheme) {
        return None;
    }
    let token = BASE64.decode(token).ok()?;
    Some(u32::from_le_bytes(token.get(8..12)?.try_into().ok()?))
}

/// Accepts any AUTHENTICATE (it does not check the proof); `reused_401` says which
/// already-authenticated requests (counting per connection) get a 401, and `reject_type3`
/// which authenticate messages (counting globally) are refused.
fn lenient_ntlm(
    scheme: &'static str,
    reused_401: fn(usize) -> bool,
    reject_type3: fn(usize) -> bool,
) -> Script {
    let type3_seen = Arc::new(AtomicUsize::new(0));
    let offer = if scheme == "NTLM" {
        vec!["Negotiate", "NTLM"]
    } else {
        vec!["Negotiate"]
    };
    Arc::new(move |request: &Recorded, state: &mut ConnectionState| {
        let challenge_header = format!("{scheme} {}", BASE64.encode(challenge_message()));
        let default_401 = || {
            let mut text = "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n".to_owned();
            for offered in &offer {
                text.push_str(&format!("WWW-Authenticate: {offered}\r\n"));
            }
            text.push_str("\r\n");
            Reply::Send(text.into_bytes())
        };
        match ntlm_type(request, scheme) {
            Some(1) => Reply::Send(http_response(
                401,
                &[("WWW-Authenticate", &challenge_header)],
                "",
            )),
            Some(3) => {
                let index = type3_seen.fetch_add(1, Ordering::SeqCst) + 1;
                if reject_type3(index) {
                    state.authenticated = false;
                    default_401()
                } else {
                    state.authenticated = true;
                    state.requests = 0;
                    ok_xml("<authenticated/>")
                }
            }
            _ if state.authenticated && !reused_401(state.requests) => ok_xml("<reused/>"),
            _ => {
                state.authenticated = false;
                default_401()
            }
        }
    })
}

fn ntlm_settings(url: url::Url) -> Settings {
    let mut settings = Settings::new(url, AuthScheme::Ntlm);
    settings.request_timeout = Duration::from_secs(10);
    settings
}

#[tokio::test]
async fn the_handshake_sends_the_body_only_with_the_authenticate_leg() {
    let server =
        TestServer::start(Duration::ZERO, lenient_ntlm("NTLM", |_| false, |_| false)).await;
    let transport = Transport::new(ntlm_settings(server.url())).unwrap();
    let response = transport.post(&credentials(), envelope()).await.unwrap();
    assert_eq!(response.body, Bytes::from_static(b"<authenticated/>"));
    let seen = server.recorded();
    assert_eq!(seen.len(), 2);
    assert_eq!(ntlm_type(&seen[0], "NTLM"), Some(1));
    assert_eq!(seen[0].header("Content-Length"), Some("0"));
    assert_eq!(ntlm_type(&seen[1], "NTLM"), Some(3));
    assert_eq!(seen[1].body, b"<soap:Envelope/>");
    assert_eq!(
        seen[0].connection, seen[1].connection,
        "all legs on one connection"
    );
    // Later requests ride the authenticated connection without an Authorization header.
    let response = transport.post(&credentials(), envelope()).await.unwrap();
    assert_eq!(response.body, Bytes::from_static(b"<reused/>"));
    assert_eq!(server.recorded()[2].header("Authorization"), None);
}

#[tokio::test]
async fn a_401_on_a_reused_connection_reauthenticates_once_on_a_fresh_connection() {
    // The second request on each authenticated connection gets 401, as when IIS drops the
    // connection's authentication.
    let server = TestServer::start(
        Duration::ZERO,
        lenient_ntlm("NTLM", |request| request == 1, |_| false),
    )
    .await;
    let transport = Transport::new(ntlm_settings(server.url())).unwrap();
    transport.post(&credentials(), envelope()).await.unwrap();
    let response = transport.post(&credentials(), envelope()).await.unwrap();
    assert_eq!(response.body, Bytes::from_static(b"<authenticated/>"));
    let stats = transport.stats();
    assert_eq!(stats.handshakes, 2);
    assert_eq!(stats.connections_opened, 2);
    assert_eq!(stats.auth_failures, 0);
}

#[tokio::test]
async fn a_second_401_after_reauthentication_is_auth_rejected() {
    // First handshake succeeds; the reused connection then gets 401, and the fresh handshake is
    // refused (the password changed in AD meanwhile).
    let server = TestServer::start(
        Duration::ZERO,
        lenient_ntlm("NTLM", |request| request == 1, |index| index >= 2),
    )
    .await;
    let transport = Transport::new(ntlm_settings(server.url())).unwrap();
    transport.post(&credentials(), envelope()).await.unwrap();
    assert!(matches!(
        transport.post(&credentials(), envelope()).await,
        Err(Error::AuthRejected { .. })
    ));
    let stats = transport.stats();
    assert_eq!(stats.handshakes, 2, "exactly one re-authentication");
    assert_eq!(stats.auth_failures, 1);
    let type3 = server
        .recorded()
        .iter()
        .filter(|request| ntlm_type(request, "NTLM") == Some(3))
        .count();
    assert_eq!(type3, 2);
}

#[tokio::test]
async fn negotiate_is_used_when_the_server_does_not_list_ntlm() {
    let server = TestServer::start(
        Duration::ZERO,
        lenient_ntlm("Negotiate", |_| false, |_| false),
    )
    .await;
    let transport = Transport::new(ntlm_settings(server.url())).unwrap();
    let response = transport.post(&credentials(), envelope()).await.unwrap();
    assert_eq!(response.body, Bytes::from_static(b"<authenticated/>"));
    let seen = server.recorded();
    // NTLM was tried first, then the scheme the server lists, on the same connection.
    assert!(
        seen[0]
            .header("Authorization")
            .unwrap()
            .starts_with("NTLM ")
    );
    assert_eq!(ntlm_type(&seen[1], "Negotiate"), Some(1));
    assert_eq!(ntlm_type(&seen[2], "Negotiate"), Some(3));
    // The transport remembers: a new account starts with Negotiate directly.
    let other = Credentials {
        username: "CONTOSO\\svc-other".to_owned(),
        password: Secret::new("x"),
    };
    transport.post(&other, envelope()).await.unwrap();
    let seen = server.recorded();
    assert_eq!(ntlm_type(&seen[3], "Negotiate"), Some(1));
    assert_eq!(seen.len(), 5);
}

#[tokio::test]
async fn a_server_without_ntlm_is_a_protocol_error() {
    let server = TestServer::start(
        Duration::ZERO,
        Arc::new(|_, _| {
            Reply::Send(http_response(
                401,
                &[("WWW-Authenticate", "Basic realm=\"ews\"")],
                "",
            ))
        }),
    )
    .await;
    let transport = Transport::new(ntlm_settings(server.url())).unwrap();
    match transport.post(&credentials(), envelope()).await {
        Err(Error::Protocol { detail, .. }) => assert!(detail.contains("Basic"), "{detail}"),
        other => panic!("expected a protocol error, got {other:?}"),
    }
    assert_eq!(transport.stats().handshakes, 0);
    assert_eq!(transport.stats().auth_failures, 0);
}

// --- TLS certificate errors -----------------------------------------------------------------

/// A TLS server on 127.0.0.1 presenting `certificate`; returns its port.
async fn tls_server(certificate: &rcgen::Certificate, key: &rcgen::KeyPair) -> (u16, AbortOnDrop) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![certificate.der().clone()],
            rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).unwrap(),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _ = acceptor.accept(stream).await;
        }
    });
    (port, AbortOnDrop(task))
}

async fn tls_error_for(params: rcgen::CertificateParams) -> String {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let certificate = params.self_signed(&key).unwrap();
    let directory = tempfile::tempdir().unwrap();
    let ca_file = directory.path().join("ca.pem");
    std::fs::write(&ca_file, certificate.pem()).unwrap();
    let (port, _server) = tls_server(&certificate, &key).await;
    let url = url::Url::parse(&format!("https://127.0.0.1:{port}/EWS/Exchange.asmx")).unwrap();
    let mut settings = Settings::new(url, AuthScheme::Ntlm);
    settings.ca_file = Some(ca_file);
    let transport = Transport::new(settings).unwrap();
    match transport.post(&credentials(), envelope()).await {
        Err(error @ Error::Certificate { .. }) => {
            assert!(error.is_permanent(), "{error}");
            assert!(error.request_not_sent(), "{error}");
            let Error::Certificate { reason, .. } = error else {
                unreachable!()
            };
            reason
        }
        other => panic!("expected a certificate error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_certificate_for_another_name_is_a_certificate_error_naming_both_names() {
    let params = rcgen::CertificateParams::new(vec!["mail.fabrikam.example".to_owned()]).unwrap();
    let reason = tls_error_for(params).await;
    assert!(reason.contains("mail.fabrikam.example"), "{reason}");
    assert!(
        reason.contains("not for 127.0.0.1, the host of exchange.url"),
        "{reason}"
    );
}

#[tokio::test]
async fn an_expired_certificate_is_a_certificate_error_with_its_end_date() {
    let mut params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    let reason = tls_error_for(params).await;
    assert!(reason.contains("expired on 2021-01-01"), "{reason}");
}

#[tokio::test]
async fn a_503_to_the_negotiate_leg_is_handed_up_and_the_connection_not_pooled() {
    let busy_once = Arc::new(AtomicUsize::new(0));
    let lenient = lenient_ntlm("NTLM", |_| false, |_| false);
    let server = TestServer::start(
        Duration::ZERO,
        Arc::new(move |request: &Recorded, state: &mut ConnectionState| {
            if busy_once.fetch_add(1, Ordering::SeqCst) == 0 {
                return Reply::Send(http_response(503, &[("Retry-After", "5")], "queue full"));
            }
            lenient(request, state)
        }),
    )
    .await;
    let transport = Transport::new(ntlm_settings(server.url())).unwrap();
    let busy = transport.post(&credentials(), envelope()).await.unwrap();
    assert_eq!(busy.status, 503);
    assert_eq!(busy.retry_after, Some(Duration::from_secs(5)));
    assert_eq!(transport.stats().handshakes, 0);
    let response = transport.post(&credentials(), envelope()).await.unwrap();
    assert_eq!(response.body, Bytes::from_static(b"<authenticated/>"));
    let connections: Vec<usize> = server
        .recorded()
        .iter()
        .map(|request| request.connection)
        .collect();
    assert_eq!(
        connections,
        vec![1, 2, 2],
        "the unauthenticated connection is not reused"
    );
}
