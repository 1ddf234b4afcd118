//! Authentication and routing, without a socket (`tower::ServiceExt::oneshot`): every operation
//! of the OpenAPI document (which is split from the same table as the router) except the public
//! operations routes refuses a missing token, a wrong token and a token without the
//! operation's scope; every documented operation is served; unknown paths and methods are
//! problems. A route added without auth or without documentation fails here.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};

use ews_connector::api::{self, PUBLIC_PATHS};

use common::api::{
    BOTH_TOKEN, CHECK_TOKEN, DELEGATE_TOKEN, NO_SCOPE_TOKEN, json, offline_state, oneshot, settings,
};

/// Every (method, path template, scopes) of the document.
fn operations() -> Vec<(Method, String, Vec<String>)> {
    let document = serde_json::to_value(api::openapi()).unwrap();
    let mut operations = Vec::new();
    for (path, items) in document["paths"].as_object().unwrap() {
        for (method, operation) in items.as_object().unwrap() {
            let scopes = operation["security"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|requirement| requirement["bearer"].as_array())
                .flatten()
                .map(|scope| scope.as_str().unwrap().to_owned())
                .collect();
            operations.push((method.to_uppercase().parse().unwrap(), path.clone(), scopes));
        }
    }
    operations
}

/// A concrete URI for a path template; the mailbox is not a valid address, so a request that
/// gets past auth is refused with 400 before anything reaches Exchange.
fn concrete(path: &str) -> String {
    path.replace("{mailbox}", "not-an-address")
        .replace("{externalId}", "mytt-1")
}

fn request(method: &Method, uri: &str, authorization: Option<&str>) -> Request<Body> {
    let mut builder = Request::builder().method(method.clone()).uri(uri);
    if let Some(value) = authorization {
        builder = builder.header(header::AUTHORIZATION, value);
    }
    builder.body(Body::empty()).unwrap()
}

async fn assert_problem(
    response: axum::http::Response<Body>,
    status: StatusCode,
    code: &str,
    what: &str,
) -> serde_json::Value {
    assert_eq!(response.status(), status, "{what}");
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "application/problem+json",
        "{what}"
    );
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body = json(response).await;
    assert_eq!(body["code"], code, "{what}: {body}");
    assert_eq!(body["status"], status.as_u16(), "{what}");
    assert_eq!(body["requestId"], request_id.as_str(), "{what}");
    for field in ["type", "title", "detail"] {
        assert!(body[field].is_string(), "{what}: {field} in {body}");
    }
    body
}

#[tokio::test]
async fn every_protected_route_refuses_missing_wrong_and_unscoped_tokens() {
    let state = offline_state(settings());
    let protected: Vec<_> = operations()
        .into_iter()
        .filter(|(_, path, _)| !PUBLIC_PATHS.contains(&path.as_str()))
        .collect();
    assert!(
        protected.len() >= 3,
        "the document lists the /v1 routes: {protected:?}"
    );
    for (method, path, scopes) in protected {
        let what = format!("{method} {path}");
        assert!(!scopes.is_empty(), "{what} documents the scope it needs");
        let uri = concrete(&path);

        let response = oneshot(&state, request(&method, &uri, None)).await;
        assert_eq!(
            response.headers()[header::WWW_AUTHENTICATE],
            "Bearer",
            "{what}"
        );
        assert_problem(response, StatusCode::UNAUTHORIZED, "unauthorized", &what).await;

        let response = oneshot(&state, request(&method, &uri, Some("Bearer wrong-token"))).await;
        assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
        assert_problem(response, StatusCode::UNAUTHORIZED, "unauthorized", &what).await;

        let basic = format!("Basic {BOTH_TOKEN}");
        let response = oneshot(&state, request(&method, &uri, Some(&basic))).await;
        assert_problem(response, StatusCode::UNAUTHORIZED, "unauthorized", &what).await;

        let response = oneshot(
            &state,
            request(&method, &uri, Some(&format!("Bearer {NO_SCOPE_TOKEN}"))),
        )
        .await;
        assert_problem(response, StatusCode::FORBIDDEN, "forbidden", &what).await;

        // A token with every scope but the ones this route needs.
        let other = if scopes.iter().any(|scope| scope == "calendar:check") {
            DELEGATE_TOKEN
        } else {
            CHECK_TOKEN
        };
        let response = oneshot(
            &state,
            request(&method, &uri, Some(&format!("Bearer {other}"))),
        )
        .await;
        assert_problem(response, StatusCode::FORBIDDEN, "forbidden", &what).await;

        // With the scope, auth lets it through to validation.
        let response = oneshot(
            &state,
            request(&method, &uri, Some(&format!("Bearer {BOTH_TOKEN}"))),
        )
        .await;
        if path.contains("{mailbox}") {
            let body =
                assert_problem(response, StatusCode::BAD_REQUEST, "invalid_mailbox", &what).await;
            assert_eq!(body["mailbox"], "not-an-address");
        } else {
            // The batch routes take their mailboxes from the body, which is empty here.
            assert_problem(response, StatusCode::BAD_REQUEST, "invalid_request", &what).await;
        }
    }
}

#[tokio::test]
async fn every_documented_operation_is_served_and_no_other_method() {
    let state = offline_state(settings());
    let operations = operations();
    let all_methods = [
        Method::GET,
        Method::PUT,
        Method::POST,
        Method::DELETE,
        Method::PATCH,
    ];
    let authorization = format!("Bearer {BOTH_TOKEN}");
    for path in operations.iter().map(|(_, path, _)| path.clone()) {
        for method in &all_methods {
            let documented = operations.iter().any(|(m, p, _)| m == method && *p == path);
            let response = oneshot(
                &state,
                request(method, &concrete(&path), Some(&authorization)),
            )
            .await;
            let status = response.status();
            if documented {
                assert!(
                    status != StatusCode::NOT_FOUND && status != StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path} is documented but answered {status}"
                );
            } else {
                assert_problem(
                    response,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "method_not_allowed",
                    &format!("{method} {path} is not documented"),
                )
                .await;
            }
        }
    }
}

#[tokio::test]
async fn public_routes_need_no_token() {
    let state = offline_state(settings());
    for path in ["/healthz", "/metrics", "/openapi.json"] {
        let response = oneshot(&state, request(&Method::GET, path, None)).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert!(response.headers().contains_key("x-request-id"));
    }
    // Not probed yet: not ready, and a problem that says why.
    let response = oneshot(&state, request(&Method::GET, "/readyz", None)).await;
    let body = assert_problem(
        response,
        StatusCode::SERVICE_UNAVAILABLE,
        "not_ready",
        "readyz",
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("not been probed"));
}

#[tokio::test]
async fn unknown_paths_are_404_problems() {
    let state = offline_state(settings());
    for path in [
        "/",
        "/v1",
        "/v1/mailboxes/a@contoso.example/calendar",
        "/v2/mailboxes/a@contoso.example/calendar/access",
    ] {
        let response = oneshot(
            &state,
            request(&Method::GET, path, Some(&format!("Bearer {BOTH_TOKEN}"))),
        )
        .await;
        assert_problem(response, StatusCode::NOT_FOUND, "not_found", path).await;
    }
}

#[tokio::test]
async fn request_ids_are_echoed_when_sane_and_generated_otherwise() {
    let state = offline_state(settings());
    let mut echoed = request(&Method::GET, "/v1/mailboxes/x/calendar/access", None);
    echoed
        .headers_mut()
        .insert("x-request-id", "mytt-4711.a".parse().unwrap());
    let response = oneshot(&state, echoed).await;
    assert_eq!(response.headers()["x-request-id"], "mytt-4711.a");
    assert_eq!(json(response).await["requestId"], "mytt-4711.a");

    let mut odd = request(&Method::GET, "/healthz", None);
    odd.headers_mut()
        .insert("x-request-id", "has spaces and {braces}".parse().unwrap());
    let response = oneshot(&state, odd).await;
    let generated = response.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(generated.len(), 26, "a ULID: {generated}");
    assert!(generated.parse::<ulid::Ulid>().is_ok(), "{generated}");

    let first = oneshot(&state, request(&Method::GET, "/healthz", None)).await;
    let second = oneshot(&state, request(&Method::GET, "/healthz", None)).await;
    assert_ne!(
        first.headers()["x-request-id"],
        second.headers()["x-request-id"]
    );
}

#[tokio::test]
async fn grant_bodies_are_validated_before_exchange() {
    let state = offline_state(settings());
    let uri = "/v1/mailboxes/a@contoso.example/calendar/delegation";
    let cases: [(&str, StatusCode, &str, &str); 7] = [
        (
            r#"{"level": 5}"#,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "level",
        ),
        (
            r#"{"dryRun": "yes"}"#,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "dryRun",
        ),
        (
            r#"{"principal": ["a"]}"#,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "principal",
        ),
        (
            r#"{"level": "Boss"}"#,
            StatusCode::BAD_REQUEST,
            "invalid_level",
            "Boss",
        ),
        (
            r#"{"level": "Custom"}"#,
            StatusCode::BAD_REQUEST,
            "invalid_level",
            "Custom",
        ),
        (
            r#"{"level": "Editor""#,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "JSON",
        ),
        (
            r#"[1, 2]"#,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "object",
        ),
    ];
    for (body, status, code, named) in cases {
        let request = Request::builder()
            .method(Method::PUT)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {DELEGATE_TOKEN}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .unwrap();
        let response = oneshot(&state, request).await;
        let problem = assert_problem(response, status, code, body).await;
        assert!(
            problem["detail"].as_str().unwrap().contains(named),
            "{body}: {problem}"
        );
        assert_eq!(problem["mailbox"], "a@contoso.example");
    }
}

#[tokio::test]
async fn bodies_over_one_mebibyte_get_413() {
    let state = offline_state(settings());
    let padding = " ".repeat(1024 * 1024 + 1);
    let request = Request::builder()
        .method(Method::PUT)
        .uri("/v1/mailboxes/a@contoso.example/calendar/delegation")
        .header(header::AUTHORIZATION, format!("Bearer {DELEGATE_TOKEN}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(format!("{{}}{padding}")))
        .unwrap();
    let response = oneshot(&state, request).await;
    assert_problem(
        response,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "1 MiB + 3 bytes",
    )
    .await;
}

#[tokio::test]
async fn mailboxes_outside_the_allowed_domains_are_refused_before_exchange() {
    let mut settings = settings();
    settings.allowed_domains = vec!["contoso.example".to_owned()];
    let state = offline_state(settings);
    let response = oneshot(
        &state,
        request(
            &Method::GET,
            "/v1/mailboxes/s.jansen@Fabrikam.example/calendar/access",
            Some(&format!("Bearer {CHECK_TOKEN}")),
        ),
    )
    .await;
    let body = assert_problem(
        response,
        StatusCode::FORBIDDEN,
        "mailbox_not_allowed",
        "fabrikam",
    )
    .await;
    assert_eq!(body["mailbox"], "s.jansen@Fabrikam.example");
}
