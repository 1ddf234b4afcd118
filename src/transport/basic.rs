//! HTTP Basic authentication for EWS (Exchange's "Basic authentication" virtual directory setting).
//!
//! Invariants:
//! - Basic is only used over https; plain http is refused unless the lab flag allows it;
//! - the header is sent preemptively on every request (Basic authenticates requests, not
//!   connections) and is marked sensitive so hyper and our logs never print it.
//!
//! Entry points: [`ensure_allowed`], [`authorization`].

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::HeaderValue;

use crate::secret::Secret;
use crate::transport::error::Error;

/// Refuses Basic over plain http unless `allow_plain_http` (a lab setting) is on.
///
/// # Errors
/// [`Error::InsecureBasic`] for an `http` URL without the lab flag.
pub(crate) fn ensure_allowed(url: &url::Url, allow_plain_http: bool) -> Result<(), Error> {
    if url.scheme() == "https" || allow_plain_http {
        Ok(())
    } else {
        Err(Error::InsecureBasic)
    }
}

/// The `Authorization: Basic` value for `username` (as configured: `DOMAIN\user` or a UPN).
///
/// # Errors
/// [`Error::InvalidSettings`] when the username holds characters a header cannot carry.
pub(crate) fn authorization(username: &str, password: &Secret) -> Result<HeaderValue, Error> {
    let mut plain = format!("{username}:{}", password.expose()).into_bytes();
    let encoded = format!("Basic {}", BASE64.encode(&plain));
    plain.fill(0);
    std::hint::black_box(&plain);
    let mut value = HeaderValue::from_str(&encoded).map_err(|_| Error::InvalidSettings {
        detail: "the username cannot be sent in a basic authorization header".to_owned(),
    })?;
    value.set_sensitive(true);
    let mut encoded = encoded.into_bytes();
    encoded.fill(0);
    std::hint::black_box(&encoded);
    Ok(value)
}

#[cfg(test)]
mod tests {
    use crate::secret::Secret;
    use crate::transport::basic::{authorization, ensure_allowed};
    use crate::transport::error::Error;

    #[test]
    fn basic_is_refused_on_plain_http_unless_allowed() {
        let http = url::Url::parse("http://ex01.contoso.example/EWS/Exchange.asmx").unwrap();
        let https = url::Url::parse("https://ex01.contoso.example/EWS/Exchange.asmx").unwrap();
        assert!(matches!(
            ensure_allowed(&http, false),
            Err(Error::InsecureBasic)
        ));
        assert!(ensure_allowed(&http, true).is_ok());
        assert!(ensure_allowed(&https, false).is_ok());
    }

    #[test]
    fn header_is_rfc7617_and_sensitive() {
        let value = authorization("CONTOSO\\svc-mytt", &Secret::new("S3rvice!Pass")).unwrap();
        assert!(value.is_sensitive());
        // base64("CONTOSO\svc-mytt:S3rvice!Pass")
        assert_eq!(
            value.to_str().unwrap(),
            "Basic Q09OVE9TT1xzdmMtbXl0dDpTM3J2aWNlIVBhc3M="
        );
        assert_eq!(format!("{value:?}"), "Sensitive");
    }
}
