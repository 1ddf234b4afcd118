//! The simulator's Autodiscover endpoints: `POST /autodiscover/autodiscover.svc` (SOAP
//! `GetUserSettings`) and `POST /autodiscover/autodiscover.xml` (POX), authenticated like EWS,
//! answering from `fixtures/sim/templates/autodiscover/` with the simulator's own EWS URL (taken
//! from the request's `Host`) unless the state's `[autodiscover]` section overrides it.
//!
//! Invariants: answers are template bytes with escaped values (never from `ews`); the request is
//! read with the simulator's own reader (`sim::xml`); an `http_redirect` answers 302 before any
//! logon, as a front end would, so a client that follows it can be seen sending credentials or not.
//! Entry types: [`AutodiscoverSettings`] (the `[autodiscover]` state section), [`handle`].

use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde::Deserialize;

use crate::render::{Fill, fill};
use crate::server::{ConnectionState, Logon, Shared, SimBody, lock, logon, plain};
use crate::xml::{SOAP_NS, parse_document};

macro_rules! template {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/sim/templates/autodiscover/",
            $name
        ))
    };
}

const GET_USER_SETTINGS: &str = template!("get_user_settings.xml");
const GET_USER_SETTINGS_REDIRECT: &str = template!("get_user_settings_redirect.xml");
const POX_SETTINGS: &str = template!("pox_settings.xml");
const POX_REDIRECT_ADDR: &str = template!("pox_redirect_addr.xml");
const POX_REDIRECT_URL: &str = template!("pox_redirect_url.xml");

/// The SOAP endpoint path.
pub(crate) const SOAP_PATH: &str = "/autodiscover/autodiscover.svc";
/// The POX endpoint path.
pub(crate) const POX_PATH: &str = "/autodiscover/autodiscover.xml";

const AUTODISCOVER_NS: &str = "http://schemas.microsoft.com/exchange/2010/Autodiscover";
const POX_REQUEST_NS: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006";

/// The `[autodiscover]` section of a state file (fixtures/sim/README.md).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AutodiscoverSettings {
    /// `false`: the SOAP endpoint answers 404, so a client falls back to POX.
    pub soap: bool,
    /// `false`: the POX endpoint answers 404.
    pub pox: bool,
    /// A request for `from` is answered with RedirectAddress (POX: redirectAddr) to `to`.
    pub redirect_address: Option<RedirectAddress>,
    /// Every request is answered with RedirectUrl (POX: redirectUrl) to this URL; `{host}` in
    /// it is replaced by the request's `Host` (the simulator's own address).
    pub redirect_url: Option<String>,
    /// Every request is answered `302 Found` with this `Location` (`{host}` replaced as above),
    /// before any logon.
    pub http_redirect: Option<String>,
    /// Overrides the `InternalEwsUrl` (POX: EXCH `EwsUrl`); default `http://<Host>/EWS/Exchange.asmx`.
    pub internal_ews_url: Option<String>,
    /// Overrides the `ExternalEwsUrl` (POX: EXPR `EwsUrl`); default as the internal one.
    pub external_ews_url: Option<String>,
}

impl Default for AutodiscoverSettings {
    fn default() -> Self {
        AutodiscoverSettings {
            soap: true,
            pox: true,
            redirect_address: None,
            redirect_url: None,
            http_redirect: None,
            internal_ews_url: None,
            external_ews_url: None,
        }
    }
}

/// `redirect_address = { from = "...", to = "..." }`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedirectAddress {
    pub from: String,
    pub to: String,
}

/// Whether `path` is one of the two Autodiscover endpoints.
pub(crate) fn handles(path: &str) -> bool {
    path.eq_ignore_ascii_case(SOAP_PATH) || path.eq_ignore_ascii_case(POX_PATH)
}

/// Answers one POST to [`SOAP_PATH`] or [`POX_PATH`].
pub(crate) async fn handle(
    shared: &Shared,
    connection: &std::sync::Mutex<ConnectionState>,
    request: Request<Incoming>,
) -> Response<SimBody> {
    let soap = request.uri().path().eq_ignore_ascii_case(SOAP_PATH);
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_owned();
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let settings = lock(&shared.state).autodiscover.clone();
    if let Some(location) = &settings.http_redirect {
        let mut response = plain(StatusCode::FOUND, "");
        if let Ok(value) = HeaderValue::from_str(&location.replace("{host}", &host)) {
            response.headers_mut().insert(header::LOCATION, value);
        }
        return response;
    }
    if (soap && !settings.soap) || (!soap && !settings.pox) {
        return plain(StatusCode::NOT_FOUND, "not found");
    }
    let body = match request.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return plain(StatusCode::BAD_REQUEST, "unreadable body"),
    };
    if let Logon::Answer(response) = logon(shared, connection, authorization.as_deref()) {
        return *response;
    }
    let operation = if soap {
        "GetUserSettings"
    } else {
        "Autodiscover"
    };
    *lock(&shared.stats)
        .requests_by_operation
        .entry(operation.to_owned())
        .or_insert(0) += 1;
    let Some(mailbox) = requested_mailbox(&String::from_utf8_lossy(&body), soap) else {
        return plain(StatusCode::BAD_REQUEST, "unreadable autodiscover request");
    };
    let default_url = format!("http://{host}/EWS/Exchange.asmx");
    let internal = settings.internal_ews_url.clone().unwrap_or(default_url);
    let external = settings
        .external_ews_url
        .clone()
        .unwrap_or_else(|| internal.clone());
    let redirect_address = settings
        .redirect_address
        .as_ref()
        .filter(|redirect| redirect.from.eq_ignore_ascii_case(&mailbox))
        .map(|redirect| redirect.to.as_str());
    let redirect_url = settings
        .redirect_url
        .as_ref()
        .map(|target| target.replace("{host}", &host));
    let text = match (soap, redirect_address, redirect_url.as_deref()) {
        (true, Some(target), _) => fill(
            GET_USER_SETTINGS_REDIRECT,
            &[
                ("ERROR_CODE", Fill::Text("RedirectAddress")),
                ("ERROR_MESSAGE", Fill::Text("Redirection address.")),
                ("REDIRECT_TARGET", Fill::Text(target)),
            ],
        ),
        (true, None, Some(target)) => fill(
            GET_USER_SETTINGS_REDIRECT,
            &[
                ("ERROR_CODE", Fill::Text("RedirectUrl")),
                ("ERROR_MESSAGE", Fill::Text("Redirection URL.")),
                ("REDIRECT_TARGET", Fill::Text(target)),
            ],
        ),
        (true, None, None) => fill(
            GET_USER_SETTINGS,
            &[
                ("INTERNAL_EWS_URL", Fill::Text(&internal)),
                ("EXTERNAL_EWS_URL", Fill::Text(&external)),
            ],
        ),
        (false, Some(target), _) => fill(POX_REDIRECT_ADDR, &[("TARGET", Fill::Text(target))]),
        (false, None, Some(target)) => fill(POX_REDIRECT_URL, &[("TARGET", Fill::Text(target))]),
        (false, None, None) => fill(
            POX_SETTINGS,
            &[
                ("MAILBOX", Fill::Text(&mailbox)),
                ("INTERNAL_EWS_URL", Fill::Text(&internal)),
                ("EXTERNAL_EWS_URL", Fill::Text(&external)),
            ],
        ),
    };
    let mut response = plain(StatusCode::OK, "");
    *response.body_mut() = SimBody::full(bytes::Bytes::from(text));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/xml; charset=utf-8"),
    );
    response
}

/// The address asked for: `Users/User/Mailbox` (SOAP) or `Request/EMailAddress` (POX).
fn requested_mailbox(text: &str, soap: bool) -> Option<String> {
    let root = parse_document(text).ok()?;
    let element = if soap {
        if !root.is(SOAP_NS, "Envelope") {
            return None;
        }
        root.child(SOAP_NS, "Body")?
            .child(AUTODISCOVER_NS, "GetUserSettingsRequestMessage")?
            .child(AUTODISCOVER_NS, "Request")?
            .child(AUTODISCOVER_NS, "Users")?
            .child(AUTODISCOVER_NS, "User")?
            .child(AUTODISCOVER_NS, "Mailbox")?
    } else {
        if !root.is(POX_REQUEST_NS, "Autodiscover") {
            return None;
        }
        root.child(POX_REQUEST_NS, "Request")?
            .child(POX_REQUEST_NS, "EMailAddress")?
    };
    let mailbox = element.trimmed_text();
    (!mailbox.is_empty()).then(|| mailbox.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_section_parses_with_defaults() {
        let settings: AutodiscoverSettings = toml::from_str(
            r#"
soap = false
redirect_address = { from = "a@contoso.example", to = "b@contoso.example" }
"#,
        )
        .unwrap();
        assert!(!settings.soap);
        assert!(settings.pox);
        assert_eq!(settings.redirect_address.unwrap().to, "b@contoso.example");
        assert!(toml::from_str::<AutodiscoverSettings>("sop = false").is_err());
    }

    #[test]
    fn requests_are_read_by_namespace() {
        let soap = r#"<x:Envelope xmlns:x="http://schemas.xmlsoap.org/soap/envelope/" xmlns:b="http://schemas.microsoft.com/exchange/2010/Autodiscover"><x:Body><b:GetUserSettingsRequestMessage><b:Request><b:Users><b:User><b:Mailbox>a&amp;b@contoso.example</b:Mailbox></b:User></b:Users></b:Request></b:GetUserSettingsRequestMessage></x:Body></x:Envelope>"#;
        assert_eq!(
            requested_mailbox(soap, true).as_deref(),
            Some("a&b@contoso.example")
        );
        let pox = r#"<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>c@contoso.example</EMailAddress></Request></Autodiscover>"#;
        assert_eq!(
            requested_mailbox(pox, false).as_deref(),
            Some("c@contoso.example")
        );
        assert_eq!(requested_mailbox(pox, true), None);
    }

    #[test]
    fn every_template_renders_well_formed_with_escaped_values() {
        let url = "http://127.0.0.1:1/EWS/Exchange.asmx?a=1&b=<2>";
        for text in [
            fill(
                GET_USER_SETTINGS,
                &[
                    ("INTERNAL_EWS_URL", Fill::Text(url)),
                    ("EXTERNAL_EWS_URL", Fill::Text(url)),
                ],
            ),
            fill(
                GET_USER_SETTINGS_REDIRECT,
                &[
                    ("ERROR_CODE", Fill::Text("RedirectUrl")),
                    ("ERROR_MESSAGE", Fill::Text("x")),
                    ("REDIRECT_TARGET", Fill::Text(url)),
                ],
            ),
            fill(
                POX_SETTINGS,
                &[
                    ("MAILBOX", Fill::Text("a@contoso.example")),
                    ("INTERNAL_EWS_URL", Fill::Text(url)),
                    ("EXTERNAL_EWS_URL", Fill::Text(url)),
                ],
            ),
            fill(POX_REDIRECT_ADDR, &[("TARGET", Fill::Text(url))]),
            fill(POX_REDIRECT_URL, &[("TARGET", Fill::Text(url))]),
        ] {
            let root = parse_document(&text).unwrap();
            assert!(!root.name.is_empty());
            assert!(text.contains("a=1&amp;b=&lt;2&gt;"), "{text}");
        }
    }
}
