//! Plain HTTP/1.1 to the Graph simulator, one connection per request, for the simulator's own
//! tests (`sim_graph`, `sim_graph_events`), and the connector's Graph client against it.

use ews_connector::sim::graph::GraphSimHandle;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    pub fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    pub fn message(&self) -> String {
        self.json()["error"]["message"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    }
}

/// One request on its own connection; `None` when the server closed it without an answer.
pub async fn send_with(
    sim: &GraphSimHandle,
    method: &str,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Option<Reply> {
    let mut stream = TcpStream::connect(sim.addr()).await.unwrap();
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
        sim.addr(),
        body.len()
    );
    if let Some(token) = token {
        request.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() {
        request.push_str("Content-Type: application/json\r\n");
    }
    request.push_str("\r\n");
    request.push_str(&body);
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw).await;
    if raw.is_empty() {
        return None;
    }
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    Some(Reply {
        status,
        headers,
        body: body.to_owned(),
    })
}

/// A token for the client credentials grant with a client secret, from the simulator's own
/// token endpoint.
pub async fn secret_token(
    sim: &GraphSimHandle,
    tenant: &str,
    client: &str,
    secret: &str,
) -> String {
    let form = format!(
        "grant_type=client_credentials&client_id={client}&client_secret={}&scope={}",
        url::form_urlencoded::byte_serialize(secret.as_bytes()).collect::<String>(),
        url::form_urlencoded::byte_serialize(format!("{}/.default", sim.base_url()).as_bytes())
            .collect::<String>()
    );
    let mut stream = TcpStream::connect(sim.addr()).await.unwrap();
    let request = format!(
        "POST /{tenant}/oauth2/v2.0/token HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
        form.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await.unwrap();
    let body = raw.split_once("\r\n\r\n").unwrap().1;
    let value: Value = serde_json::from_str(body).unwrap();
    value["access_token"].as_str().expect(body).to_owned()
}

/// The connector's Graph client against the simulator, authenticating as `client` with
/// `secret` (10 s per request, 20 s of retry budget, at most `max_concurrency` in flight).
pub fn sim_client(
    sim: &GraphSimHandle,
    client: &str,
    secret: &str,
    max_concurrency: usize,
) -> std::sync::Arc<ews_connector::graph::client::GraphClient> {
    use ews_connector::graph::auth::{Credential, Settings as AuthSettings, TokenSource};
    use ews_connector::graph::client::{GraphClient, Settings};
    use ews_connector::secret::Secret;
    use std::time::Duration;
    let tokens = std::sync::Arc::new(
        TokenSource::new(
            AuthSettings {
                token_url: sim.token_url().parse().unwrap(),
                scope: format!("{}/.default", sim.base_url()),
                client_id: client.to_owned(),
                timeout: Duration::from_secs(10),
                ca_file: None,
                accept_invalid_certs: false,
            },
            Credential::Secret(Secret::new(secret)),
        )
        .unwrap(),
    );
    std::sync::Arc::new(
        GraphClient::new(
            Settings {
                endpoint: sim.base_url().parse().unwrap(),
                max_concurrency,
                timeout: Duration::from_secs(10),
                retry_budget: Duration::from_secs(20),
                ca_file: None,
                accept_invalid_certs: false,
            },
            tokens,
        )
        .unwrap(),
    )
}
