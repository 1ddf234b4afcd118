//! Name resolution for the transport and for `doctor`: one place decides whether a name that
//! does not resolve is permanent (the resolver said there is no such name) or may pass (the
//! resolver did not answer, or said "try again").
//!
//! Invariants:
//! - an IP literal is never looked up;
//! - a name under the reserved `.invalid` top-level domain is answered without asking the
//!   resolver (RFC 6761 §6.4: it never resolves, and resolvers should say so at once), so a
//!   typo'd or placeholder host fails at once even on a host without DNS;
//! - only an answer that says "no such name" (or no address at all) is
//!   [`Error::NameNotResolved`]; every other resolver failure is [`Error::Connect`], which the
//!   retry loop of `exchange` may retry.
//!
//! Entry points: [`resolve`], [`connect_any`].

use std::net::{IpAddr, SocketAddr};

use tokio::net::TcpStream;

use crate::transport::error::Error;

/// The addresses of `host` (a name or an IP literal without brackets) at `port`; `url_key` is
/// the configuration key the host comes from, named in [`Error::NameNotResolved`].
///
/// # Errors
/// [`Error::NameNotResolved`] when the name certainly does not resolve; [`Error::Connect`]
/// (request not sent) when the resolver failed in a way that may pass.
pub(crate) async fn resolve(
    host: &str,
    port: u16,
    url_key: Option<&'static str>,
) -> Result<Vec<SocketAddr>, Error> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    if is_under_invalid(host) {
        return Err(Error::NameNotResolved {
            host: host.to_owned(),
            url_key,
            detail: "it is under .invalid, the top-level domain RFC 6761 reserves never to resolve"
                .to_owned(),
        });
    }
    match tokio::net::lookup_host((host, port)).await {
        Ok(addresses) => {
            let addresses: Vec<SocketAddr> = addresses.collect();
            if addresses.is_empty() {
                return Err(Error::NameNotResolved {
                    host: host.to_owned(),
                    url_key,
                    detail: "the resolver returned no address".to_owned(),
                });
            }
            Ok(addresses)
        }
        Err(error) if says_no_such_name(&error) => Err(Error::NameNotResolved {
            host: host.to_owned(),
            url_key,
            detail: error.to_string(),
        }),
        Err(error) => Err(Error::Connect {
            endpoint: format!("{host}:{port}"),
            detail: format!("resolving {host}"),
            request_sent: false,
            source: Some(error),
        }),
    }
}

/// Connects to each address in turn and returns the first connection, or the last error (what
/// `TcpStream::connect` does with a name, once the name is resolved).
///
/// # Errors
/// The last address's connect error.
///
/// # Panics
/// When `addresses` is empty; [`resolve`] never returns an empty list.
pub(crate) async fn connect_any(addresses: &[SocketAddr]) -> std::io::Result<TcpStream> {
    assert!(!addresses.is_empty(), "connect_any needs an address");
    let mut last_error = None;
    for address in addresses {
        match TcpStream::connect(address).await {
            Ok(stream) => return Ok(stream),
            Err(error) => last_error = Some(error),
        }
    }
    Err(last_error.expect("at least one address was tried"))
}

/// Whether `host` is `invalid` or a name under it (case-insensitive, a trailing dot allowed).
fn is_under_invalid(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    host == "invalid" || host.ends_with(".invalid")
}

/// Whether a lookup error is the resolver's "no such name" (or "no address for that name"),
/// as opposed to a resolver that could not be asked. The standard library reports getaddrinfo's
/// `EAI_NONAME` and `EAI_NODATA` only as text (`failed to lookup address information: <the C
/// library's message>`; the process never calls setlocale, so the message is the C locale's),
/// so the messages of glibc, musl and the BSDs/macOS are matched. `EAI_AGAIN` ("Temporary
/// failure in name resolution") and `EAI_SYSTEM` (an OS error) are not matched: they may pass.
fn says_no_such_name(error: &std::io::Error) -> bool {
    if error.raw_os_error().is_some() {
        return false;
    }
    let text = error.to_string();
    [
        // glibc EAI_NONAME and EAI_NODATA
        "Name or service not known",
        "No address associated with hostname",
        // musl EAI_NONAME
        "Name does not resolve",
        // BSD and macOS EAI_NONAME
        "nodename nor servname provided, or not known",
    ]
    .iter()
    .any(|message| text.contains(message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_no_such_name_answers_are_permanent() {
        let gai = |message: &str| {
            std::io::Error::other(format!("failed to lookup address information: {message}"))
        };
        assert!(says_no_such_name(&gai("Name or service not known")));
        assert!(says_no_such_name(&gai(
            "No address associated with hostname"
        )));
        assert!(says_no_such_name(&gai("Name does not resolve")));
        assert!(!says_no_such_name(&gai(
            "Temporary failure in name resolution"
        )));
        assert!(!says_no_such_name(&std::io::Error::from_raw_os_error(110)));
    }

    #[test]
    fn the_invalid_top_level_domain_is_recognised_in_any_case() {
        assert!(is_under_invalid("exchange.contoso.invalid"));
        assert!(is_under_invalid("EXCHANGE.Contoso.INVALID."));
        assert!(is_under_invalid("invalid"));
        assert!(!is_under_invalid("invalid.contoso.example"));
        assert!(!is_under_invalid("mail.notinvalid"));
    }

    #[tokio::test]
    async fn ip_literals_are_not_looked_up_and_invalid_names_fail_without_the_resolver() {
        assert_eq!(
            resolve("127.0.0.1", 443, None).await.unwrap(),
            vec!["127.0.0.1:443".parse().unwrap()]
        );
        assert_eq!(
            resolve("::1", 443, None).await.unwrap(),
            vec!["[::1]:443".parse().unwrap()]
        );
        let started = std::time::Instant::now();
        match resolve("exchange.contoso.invalid", 443, Some("exchange.url")).await {
            Err(error @ Error::NameNotResolved { .. }) => {
                assert!(error.is_permanent());
                assert!(error.to_string().contains("exchange.url"), "{error}");
            }
            other => panic!("expected NameNotResolved, got {other:?}"),
        }
        assert!(started.elapsed() < std::time::Duration::from_millis(100));
    }
}
