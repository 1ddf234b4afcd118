//! Simulator helpers for integration tests: start a simulator from TOML, read the sample state,
//! and a raw HTTP/1.1 client over one `TcpStream` with a small NTLMv2 client of its own (written
//! for the tests from [MS-NLMP], independent of `transport`), so tests can drive the
//! connection-bound handshake byte by byte.

use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, Mac};
use md4::{Digest, Md4};
use md5::Md5;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use ews_connector::sim::{self, SimHandle, SimState};

/// Starts a simulator on 127.0.0.1:0 from TOML state text.
///
/// # Panics
/// When the state is invalid or the socket cannot be bound.
pub async fn start_sim(state_toml: &str) -> SimHandle {
    let state = SimState::from_toml_str(state_toml).expect("valid sim state");
    sim::start(state).await.expect("sim starts")
}

/// The text of `fixtures/sim/sample.toml`.
pub fn sample_state() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/sim/sample.toml"
    ))
    .expect("fixtures/sim/sample.toml is readable")
}

/// The sample service account.
pub const SVC_USER: &str = "svc-mytt";
pub const SVC_DOMAIN: &str = "CONTOSO";
pub const SVC_PASSWORD: &str = "Sim-Passw0rd!";

/// One HTTP response as read from the socket.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    /// Header names lower-cased, in arrival order (repeated headers appear repeatedly).
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .collect()
    }
}

/// How a response read ended when it did not complete.
#[derive(Debug)]
pub enum ReadError {
    /// The connection closed before the full response (after `partial` body bytes).
    Closed {
        partial: usize,
    },
    Io(std::io::Error),
}

/// A raw HTTP/1.1 client on one TCP connection.
pub struct RawClient {
    stream: TcpStream,
    host: String,
}

impl RawClient {
    pub async fn connect(handle: &SimHandle) -> RawClient {
        let stream = TcpStream::connect(handle.addr)
            .await
            .expect("connect to sim");
        RawClient {
            stream,
            host: handle.addr.to_string(),
        }
    }

    /// Sends one request and reads one response.
    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: &str,
    ) -> Result<RawResponse, ReadError> {
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n",
            self.host,
            body.len()
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        request.push_str(body);
        self.stream
            .write_all(request.as_bytes())
            .await
            .map_err(ReadError::Io)?;
        self.read_response().await
    }

    /// A SOAP POST to the EWS endpoint with optional Authorization.
    pub async fn post_soap(
        &mut self,
        authorization: Option<String>,
        body: &str,
    ) -> Result<RawResponse, ReadError> {
        let mut headers = vec![("Content-Type", "text/xml; charset=utf-8".to_string())];
        if let Some(authorization) = authorization {
            headers.push(("Authorization", authorization));
        }
        self.request("POST", "/EWS/Exchange.asmx", &headers, body)
            .await
    }

    /// Runs the NTLM handshake on this connection with this client's own NTLMv2; the
    /// AUTHENTICATE carries `body`. Returns the final response.
    pub async fn ntlm_login(
        &mut self,
        domain: &str,
        user: &str,
        password: &str,
        body: &str,
    ) -> RawResponse {
        let challenge = self.ntlm_negotiate("NTLM").await;
        let authenticate = ntlmv2_authenticate(&challenge, domain, user, password);
        self.post_soap(Some(format!("NTLM {}", b64(&authenticate))), body)
            .await
            .expect("answer to AUTHENTICATE")
    }

    /// Sends a NEGOTIATE (scheme `NTLM` or `Negotiate`) and returns the CHALLENGE bytes.
    pub async fn ntlm_negotiate(&mut self, scheme: &str) -> Vec<u8> {
        let response = self
            .post_soap(Some(format!("{scheme} {}", b64(&negotiate_message()))), "")
            .await
            .expect("answer to NEGOTIATE");
        assert_eq!(response.status, 401, "NEGOTIATE must be answered with 401");
        let header = response
            .headers_named("www-authenticate")
            .into_iter()
            .find_map(|value| {
                value
                    .strip_prefix(&format!("{scheme} "))
                    .map(str::to_string)
            })
            .expect("a challenge in WWW-Authenticate");
        base64::engine::general_purpose::STANDARD
            .decode(header)
            .expect("challenge is base64")
    }

    async fn read_response(&mut self) -> Result<RawResponse, ReadError> {
        let mut buffer = Vec::new();
        let header_end = loop {
            if let Some(position) = find(&buffer, b"\r\n\r\n") {
                break position;
            }
            let mut chunk = [0u8; 4096];
            let read = tokio::time::timeout(Duration::from_secs(10), self.stream.read(&mut chunk))
                .await
                .map_err(|_| ReadError::Io(std::io::Error::other("read timeout")))?
                .map_err(ReadError::Io)?;
            if read == 0 {
                return Err(ReadError::Closed { partial: 0 });
            }
            buffer.extend_from_slice(&chunk[..read]);
        };
        let head = String::from_utf8_lossy(&buffer[..header_end]).into_owned();
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let status: u16 = status_line
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .expect("status code");
        let headers: Vec<(String, String)> = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
            .collect();
        let mut body = buffer[header_end + 4..].to_vec();
        let chunked = headers
            .iter()
            .any(|(name, value)| name == "transfer-encoding" && value.contains("chunked"));
        if chunked {
            panic!("the sim answers with Content-Length, not chunked");
        }
        let length: usize = headers
            .iter()
            .find(|(name, _)| name == "content-length")
            .and_then(|(_, value)| value.parse().ok())
            .unwrap_or(0);
        while body.len() < length {
            let mut chunk = [0u8; 4096];
            let read = self.stream.read(&mut chunk).await.map_err(ReadError::Io)?;
            if read == 0 {
                return Err(ReadError::Closed {
                    partial: body.len(),
                });
            }
            body.extend_from_slice(&chunk[..read]);
        }
        Ok(RawResponse {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }

    /// Whether the server has closed this connection (reads EOF within a short wait).
    pub async fn is_closed_by_server(&mut self) -> bool {
        let mut byte = [0u8; 1];
        matches!(
            tokio::time::timeout(Duration::from_secs(2), self.stream.read(&mut byte)).await,
            Ok(Ok(0)) | Ok(Err(_))
        )
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn utf16le(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn hmac_md5(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = <Hmac<Md5> as Mac>::new_from_slice(key).unwrap();
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// A NEGOTIATE_MESSAGE (unicode, NTLM, extended session security, request target).
pub fn negotiate_message() -> Vec<u8> {
    let flags: u32 = 0x0000_0001
        | 0x0000_0004
        | 0x0000_0200
        | 0x0000_8000
        | 0x0008_0000
        | 0x2000_0000
        | 0x8000_0000;
    let mut message = b"NTLMSSP\0".to_vec();
    message.extend_from_slice(&1u32.to_le_bytes());
    message.extend_from_slice(&flags.to_le_bytes());
    message.extend_from_slice(&[0u8; 16]);
    message
}

/// (server challenge, target info) from a CHALLENGE_MESSAGE.
pub fn read_challenge(challenge: &[u8]) -> ([u8; 8], Vec<u8>) {
    assert_eq!(&challenge[..8], b"NTLMSSP\0");
    assert_eq!(u32::from_le_bytes(challenge[8..12].try_into().unwrap()), 2);
    let server_challenge: [u8; 8] = challenge[24..32].try_into().unwrap();
    let length = u16::from_le_bytes([challenge[40], challenge[41]]) as usize;
    let offset = u32::from_le_bytes(challenge[44..48].try_into().unwrap()) as usize;
    (
        server_challenge,
        challenge[offset..offset + length].to_vec(),
    )
}

/// An AUTHENTICATE_MESSAGE with an NTLMv2 response computed by the tests' own code.
pub fn ntlmv2_authenticate(challenge: &[u8], domain: &str, user: &str, password: &str) -> Vec<u8> {
    let (server_challenge, target_info) = read_challenge(challenge);
    let nt_hash = Md4::digest(utf16le(password));
    let key = hmac_md5(
        &nt_hash,
        &[&utf16le(&format!("{}{}", user.to_uppercase(), domain))],
    );
    let mut blob = vec![1, 1, 0, 0, 0, 0, 0, 0];
    blob.extend_from_slice(&133_000_000_000_000_000u64.to_le_bytes());
    blob.extend_from_slice(&[0x42; 8]);
    blob.extend_from_slice(&[0u8; 4]);
    blob.extend_from_slice(&target_info);
    blob.extend_from_slice(&[0u8; 4]);
    let proof = hmac_md5(&key, &[&server_challenge, &blob]);
    let mut nt_response = proof;
    nt_response.extend_from_slice(&blob);
    authenticate_message(domain, user, &nt_response)
}

/// An AUTHENTICATE_MESSAGE with an arbitrary NT response (24 bytes makes it NTLMv1).
pub fn authenticate_message(domain: &str, user: &str, nt_response: &[u8]) -> Vec<u8> {
    let lm_response = [0u8; 24];
    let domain = utf16le(domain);
    let user = utf16le(user);
    let workstation = utf16le("TESTWS");
    let mut payload = Vec::new();
    let mut fields = Vec::new();
    let header_len = 64u32;
    for part in [
        &lm_response[..],
        nt_response,
        &domain,
        &user,
        &workstation,
        &[],
    ] {
        let offset = header_len + payload.len() as u32;
        fields.extend_from_slice(&(part.len() as u16).to_le_bytes());
        fields.extend_from_slice(&(part.len() as u16).to_le_bytes());
        fields.extend_from_slice(&offset.to_le_bytes());
        payload.extend_from_slice(part);
    }
    let flags: u32 = 0x0000_0001 | 0x0000_0200 | 0x0008_0000 | 0x2000_0000 | 0x8000_0000;
    let mut message = b"NTLMSSP\0".to_vec();
    message.extend_from_slice(&3u32.to_le_bytes());
    message.extend_from_slice(&fields);
    message.extend_from_slice(&flags.to_le_bytes());
    message.extend_from_slice(&payload);
    message
}

/// A GetFolder request for `mailbox`'s calendar with the permission set, impersonating it.
pub fn get_folder_impersonating(mailbox: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">
  <soap:Header>
    <t:RequestServerVersion Version="Exchange2013_SP1"/>
    <t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>{mailbox}</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>
  </soap:Header>
  <soap:Body>
    <m:GetFolder>
      <m:FolderShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="folder:PermissionSet"/></t:AdditionalProperties></m:FolderShape>
      <m:FolderIds><t:DistinguishedFolderId Id="calendar"/></m:FolderIds>
    </m:GetFolder>
  </soap:Body>
</soap:Envelope>"#
    )
}

/// The value of the first `ChangeKey="..."` attribute in a response.
pub fn change_key_in(body: &str) -> Option<String> {
    let start = body.find("ChangeKey=\"")? + "ChangeKey=\"".len();
    let end = body[start..].find('"')?;
    Some(body[start..start + end].to_string())
}

/// The text of the first `<…ResponseCode>` element after a marker (or anywhere).
pub fn response_codes(body: &str) -> Vec<String> {
    let mut codes = Vec::new();
    let mut rest = body;
    while let Some(start) = rest.find("ResponseCode>") {
        let after = &rest[start + "ResponseCode>".len()..];
        if let Some(end) = after.find('<') {
            let code = after[..end].trim();
            if !code.is_empty() {
                codes.push(code.to_string());
            }
            rest = &after[end..];
        } else {
            break;
        }
    }
    codes
}

/// A SOAP envelope around `operation`, impersonating `mailbox` when given.
pub fn envelope(impersonate: Option<&str>, operation: &str) -> String {
    let header = impersonate
        .map(|mailbox| {
            format!(
                "<t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>{mailbox}</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>"
            )
        })
        .unwrap_or_default();
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">
<soap:Header><t:RequestServerVersion Version="Exchange2013_SP1"/>{header}</soap:Header>
<soap:Body>{operation}</soap:Body>
</soap:Envelope>"#
    )
}

/// A connection logged on as the sample service account (its first request is a GetFolder of
/// `granted@contoso.example`, which must succeed).
pub async fn logged_in_client(handle: &SimHandle) -> RawClient {
    let mut client = RawClient::connect(handle).await;
    let response = client
        .ntlm_login(
            SVC_DOMAIN,
            SVC_USER,
            SVC_PASSWORD,
            &get_folder_impersonating("granted@contoso.example"),
        )
        .await;
    assert_eq!(response.status, 200, "login failed: {response:?}");
    client
}

/// Sends a SOAP body on an already authenticated connection.
pub async fn call(client: &mut RawClient, body: &str) -> RawResponse {
    client
        .post_soap(None, body)
        .await
        .expect("a complete answer")
}

/// Every `(Id, ChangeKey)` of a `t:ItemId` in a response, in document order.
pub fn item_ids_in(body: &str) -> Vec<(String, String)> {
    let attribute = |tag: &str, name: &str| {
        let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
        let end = tag[start..].find('"')?;
        Some(tag[start..start + end].to_string())
    };
    body.split("<t:ItemId ")
        .skip(1)
        .filter_map(|rest| {
            let tag = &rest[..rest.find("/>")?];
            Some((attribute(tag, "Id")?, attribute(tag, "ChangeKey")?))
        })
        .collect()
}

/// The value of an attribute of the first `m:RootFolder` in a FindItem answer.
pub fn root_folder_attribute(body: &str, name: &str) -> Option<String> {
    let tag_start = body.find("<m:RootFolder ")?;
    let tag = &body[tag_start..tag_start + body[tag_start..].find('>')?];
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = tag[start..].find('"')?;
    Some(tag[start..start + end].to_string())
}

/// The calendar folder id, for the owner (`None`) or another mailbox (delegate access).
pub fn calendar_folder(mailbox: Option<&str>) -> String {
    match mailbox {
        None => r#"<t:DistinguishedFolderId Id="calendar"/>"#.to_string(),
        Some(mailbox) => format!(
            r#"<t:DistinguishedFolderId Id="calendar"><t:Mailbox><t:EmailAddress>{mailbox}</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId>"#
        ),
    }
}

/// The `t:ExtendedFieldURI` of the push's external id (PublicStrings / CalSyncExternalId).
pub const EXTERNAL_ID_URI: &str = r#"<t:ExtendedFieldURI DistinguishedPropertySetId="PublicStrings" PropertyName="CalSyncExternalId" PropertyType="String"/>"#;

/// A FindItem by the external id (IndexedPageItemView + IsEqualTo), returning Subject, Start,
/// End and the property.
pub fn find_by_external_id(folder: &str, value: &str) -> String {
    format!(
        r#"<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="item:Subject"/><t:FieldURI FieldURI="calendar:Start"/><t:FieldURI FieldURI="calendar:End"/>{EXTERNAL_ID_URI}</t:AdditionalProperties></m:ItemShape><m:IndexedPageItemView MaxEntriesReturned="10" Offset="0" BasePoint="Beginning"/><m:Restriction><t:IsEqualTo>{EXTERNAL_ID_URI}<t:FieldURIOrConstant><t:Constant Value="{value}"/></t:FieldURIOrConstant></t:IsEqualTo></m:Restriction><m:ParentFolderIds>{folder}</m:ParentFolderIds></m:FindItem>"#
    )
}

/// A CalendarView FindItem over [start, end) returning Subject, Start and End.
pub fn calendar_view(folder: &str, start: &str, end: &str, max: Option<usize>) -> String {
    let max = max
        .map(|max| format!(r#" MaxEntriesReturned="{max}""#))
        .unwrap_or_default();
    format!(
        r#"<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="item:Subject"/><t:FieldURI FieldURI="calendar:Start"/><t:FieldURI FieldURI="calendar:End"/></t:AdditionalProperties></m:ItemShape><m:CalendarView{max} StartDate="{start}" EndDate="{end}"/><m:ParentFolderIds>{folder}</m:ParentFolderIds></m:FindItem>"#
    )
}

/// A pushed appointment (`t:CalendarItem`) with the external id property.
pub fn pushed_item(subject: &str, start: &str, end: &str, external_id: &str) -> String {
    format!(
        r#"<t:CalendarItem><t:Subject>{subject}</t:Subject><t:Body BodyType="Text">Created by MyTimetable.</t:Body><t:Categories><t:String>MyTimetable</t:String></t:Categories><t:ReminderIsSet>false</t:ReminderIsSet><t:ExtendedProperty>{EXTERNAL_ID_URI}<t:Value>{external_id}</t:Value></t:ExtendedProperty><t:Start>{start}</t:Start><t:End>{end}</t:End><t:IsAllDayEvent>false</t:IsAllDayEvent><t:LegacyFreeBusyStatus>Busy</t:LegacyFreeBusyStatus><t:Location>Room 1.01</t:Location><t:StartTimeZone Id="W. Europe Standard Time"/><t:EndTimeZone Id="W. Europe Standard Time"/></t:CalendarItem>"#
    )
}

/// A CreateItem of `items` (rendered `t:CalendarItem`s) into `folder`; `send` is the
/// `SendMeetingInvitations` value, or `None` to leave the attribute out.
pub fn create_items(folder: &str, send: Option<&str>, items: &[String]) -> String {
    let send = send
        .map(|send| format!(r#" SendMeetingInvitations="{send}""#))
        .unwrap_or_default();
    format!(
        r#"<m:CreateItem{send}><m:SavedItemFolderId>{folder}</m:SavedItemFolderId><m:Items>{}</m:Items></m:CreateItem>"#,
        items.concat()
    )
}

/// A `SoftDelete` DeleteItem of `ids` with `SendMeetingCancellations="SendToNone"` (or without
/// it): the connector's default delete type, allowed to owners and delegates alike.
pub fn delete_items(ids: &[&str], send: bool) -> String {
    delete_items_as("SoftDelete", ids, send)
}

/// A DeleteItem of `ids` with this `DeleteType`.
pub fn delete_items_as(delete_type: &str, ids: &[&str], send: bool) -> String {
    let send = if send {
        r#" SendMeetingCancellations="SendToNone""#
    } else {
        ""
    };
    let ids: String = ids
        .iter()
        .map(|id| format!(r#"<t:ItemId Id="{id}"/>"#))
        .collect();
    format!(
        r#"<m:DeleteItem DeleteType="{delete_type}"{send}><m:ItemIds>{ids}</m:ItemIds></m:DeleteItem>"#
    )
}

/// A GetItem of `ids` returning Subject, Start, End, Location and the external id.
pub fn get_items(ids: &[&str]) -> String {
    let ids: String = ids
        .iter()
        .map(|id| format!(r#"<t:ItemId Id="{id}"/>"#))
        .collect();
    format!(
        r#"<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="item:Subject"/><t:FieldURI FieldURI="calendar:Start"/><t:FieldURI FieldURI="calendar:End"/><t:FieldURI FieldURI="calendar:Location"/>{EXTERNAL_ID_URI}</t:AdditionalProperties></m:ItemShape><m:ItemIds>{ids}</m:ItemIds></m:GetItem>"#
    )
}
