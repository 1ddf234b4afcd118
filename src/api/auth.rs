//! Bearer-token authentication and scopes for the `/v1` routes.
//!
//! A token is hashed with SHA-256 and compared with every client's configured digest in constant
//! time (`subtle`), without stopping at a match, so timing says nothing about which digest or
//! how much of it matched. The scope a route needs is read from its OpenAPI operation's
//! `security` entry, the same document `/openapi.json` serves; a route without one is refused to
//! everybody (deny by default). Tokens are never logged or echoed.

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::api::middleware::ClientName;
use crate::api::problem::{Problem, ProblemCode};
use crate::api::{AppState, ClientSettings, routes};

/// (lower-case method, path template) → the scopes the operation's `security` entry names.
fn scope_table() -> &'static HashMap<(String, String), Vec<String>> {
    static TABLE: OnceLock<HashMap<(String, String), Vec<String>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let document = serde_json::to_value(routes::openapi()).unwrap_or_default();
        let mut table = HashMap::new();
        let Some(paths) = document.get("paths").and_then(|paths| paths.as_object()) else {
            return table;
        };
        for (path, operations) in paths {
            let Some(operations) = operations.as_object() else {
                continue;
            };
            for (method, operation) in operations {
                let scopes: Vec<String> = operation
                    .get("security")
                    .and_then(|security| security.as_array())
                    .into_iter()
                    .flatten()
                    .filter_map(|requirement| requirement.get(routes::BEARER))
                    .filter_map(|scopes| scopes.as_array())
                    .flatten()
                    .filter_map(|scope| scope.as_str().map(str::to_owned))
                    .collect();
                if !scopes.is_empty() {
                    table.insert((method.clone(), path.clone()), scopes);
                }
            }
        }
        table
    })
}

/// The scopes `method` on the route template `path` needs; `None` when the document names none.
pub(crate) fn required_scopes(method: &str, path: &str) -> Option<&'static [String]> {
    scope_table()
        .get(&(method.to_ascii_lowercase(), path.to_owned()))
        .map(Vec::as_slice)
}

/// The upper-case methods the document lists for the route template `path`.
fn documented_methods(path: &str) -> Vec<String> {
    let mut methods: Vec<String> = scope_table()
        .keys()
        .filter(|(_, documented)| documented == path)
        .map(|(method, _)| method.to_ascii_uppercase())
        .collect();
    methods.sort();
    methods
}

/// The bearer token of the `Authorization` header, if it has one.
fn bearer(headers: &HeaderMap) -> Option<&[u8]> {
    let value = headers.get(header::AUTHORIZATION)?.as_bytes();
    let (scheme, token) = value.split_at(value.iter().position(|byte| *byte == b' ')?);
    let token = token.trim_ascii();
    (scheme.eq_ignore_ascii_case(b"bearer") && !token.is_empty()).then_some(token)
}

/// The client whose digest matches `token`'s, compared in constant time against every client.
fn client_for<'a>(clients: &'a [ClientSettings], token: &[u8]) -> Option<&'a ClientSettings> {
    let digest: [u8; 32] = Sha256::digest(token).into();
    let mut found = None;
    for client in clients {
        if bool::from(digest.ct_eq(&client.token_sha256)) {
            found = Some(client);
        }
    }
    found
}

/// `route_layer` middleware of the `/v1` routes: 401 without a known token, 403 without the
/// route's scope; otherwise records the client's name in the span and the request.
pub(crate) async fn authorize(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(client) =
        bearer(request.headers()).and_then(|token| client_for(&state.settings().clients, token))
    else {
        return Problem::new(
            ProblemCode::Unauthorized,
            "send `Authorization: Bearer <token>` with a configured token",
        )
        .into_response();
    };
    tracing::Span::current().record("client", client.name.as_str());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned())
        .unwrap_or_default();
    let Some(needed) = required_scopes(request.method().as_str(), &route) else {
        let documented = documented_methods(&route);
        if documented.is_empty() {
            // A route outside the document: refused to everybody (deny by default).
            return Problem::new(ProblemCode::Forbidden, "this route has no documented scope")
                .into_response();
        }
        // Another method of a documented path: what axum would answer, without running it.
        let mut response = Problem::new(
            ProblemCode::MethodNotAllowed,
            format!("{} is not served here", request.method()),
        )
        .into_response();
        if let Ok(allow) = documented.join(", ").parse() {
            response.headers_mut().insert(header::ALLOW, allow);
        }
        return response;
    };
    if !needed.iter().all(|scope| client.scopes.contains(scope)) {
        return Problem::new(
            ProblemCode::Forbidden,
            format!(
                "the client `{}` lacks the scope {}",
                client.name,
                needed.join(" ")
            ),
        )
        .into_response();
    }
    request
        .extensions_mut()
        .insert(ClientName(client.name.clone()));
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(name: &str, token: &str) -> ClientSettings {
        ClientSettings {
            name: name.to_owned(),
            token_sha256: Sha256::digest(token.as_bytes()).into(),
            scopes: vec![],
        }
    }

    #[test]
    fn finds_the_client_by_token_digest_only() {
        let clients = [client("a", "token-a"), client("b", "token-b")];
        assert_eq!(client_for(&clients, b"token-b").unwrap().name, "b");
        assert!(client_for(&clients, b"token-c").is_none());
        assert!(client_for(&clients, b"token-").is_none());
    }

    #[test]
    fn reads_bearer_tokens_only() {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, "Bearer abc".parse().unwrap());
        assert_eq!(bearer(&headers), Some(&b"abc"[..]));
        headers.insert(header::AUTHORIZATION, "bearer  abc ".parse().unwrap());
        assert_eq!(bearer(&headers), Some(&b"abc"[..]));
        headers.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer(&headers), None);
        headers.insert(header::AUTHORIZATION, "Bearer ".parse().unwrap());
        assert_eq!(bearer(&headers), None);
    }

    #[test]
    fn scopes_come_from_the_document() {
        assert_eq!(
            required_scopes("GET", "/v1/mailboxes/{mailbox}/calendar/access").unwrap(),
            ["calendar:check"]
        );
        assert_eq!(
            required_scopes("DELETE", "/v1/mailboxes/{mailbox}/calendar/delegation").unwrap(),
            ["calendar:delegate"]
        );
        assert!(required_scopes("GET", "/healthz").is_none());
    }
}
