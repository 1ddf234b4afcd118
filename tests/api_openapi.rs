//! `/openapi.json`: an OpenAPI 3.1 document of exactly the routes the router serves.

mod common;

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};

use common::api::{BOTH_TOKEN, json, offline_state, oneshot, settings};

/// The (method, path) pairs of a document.
fn operations(document: &serde_json::Value) -> BTreeSet<(String, String)> {
    document["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, items)| {
            items
                .as_object()
                .unwrap()
                .keys()
                .map(move |method| (method.to_uppercase(), path.clone()))
        })
        .collect()
}

#[tokio::test]
async fn the_served_document_is_openapi_3_1_and_lists_exactly_the_served_routes() {
    let state = offline_state(settings());
    let response = oneshot(
        &state,
        Request::get("/openapi.json").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
    let document = json(response).await;
    assert!(
        document["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        document["openapi"]
    );
    let listed = operations(&document);
    let expected: BTreeSet<(String, String)> = [
        ("GET", "/v1/mailboxes/{mailbox}/calendar/access"),
        ("PUT", "/v1/mailboxes/{mailbox}/calendar/delegation"),
        ("DELETE", "/v1/mailboxes/{mailbox}/calendar/delegation"),
        ("POST", "/v1/calendar/access:batch"),
        ("POST", "/v1/calendar/delegation:batch"),
        (
            "PUT",
            "/v1/mailboxes/{mailbox}/calendar/events/{externalId}",
        ),
        (
            "DELETE",
            "/v1/mailboxes/{mailbox}/calendar/events/{externalId}",
        ),
        ("GET", "/v1/mailboxes/{mailbox}/calendar/events"),
        ("PUT", "/v1/mailboxes/{mailbox}/calendar/events"),
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("GET", "/metrics"),
        ("GET", "/openapi.json"),
    ]
    .into_iter()
    .map(|(method, path)| (method.to_owned(), path.to_owned()))
    .collect();
    assert_eq!(listed, expected);

    // Each listed operation is served (not 404 or 405) ...
    for (method, path) in &listed {
        let uri = path
            .replace("{mailbox}", "bad address")
            .replace("{externalId}", "mytt-1");
        let uri = uri.replace(' ', "%20");
        let response = oneshot(
            &state,
            Request::builder()
                .method(method.parse::<Method>().unwrap())
                .uri(uri)
                .header(header::AUTHORIZATION, format!("Bearer {BOTH_TOKEN}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert!(
            !matches!(response.status().as_u16(), 404 | 405),
            "{method} {path}: {}",
            response.status()
        );
    }
    // ... and the in-process document is the served one.
    assert_eq!(
        document,
        serde_json::to_value(ews_connector::api::openapi()).unwrap()
    );
}

#[tokio::test]
async fn the_document_describes_scopes_bodies_and_problems() {
    let document = serde_json::to_value(ews_connector::api::openapi()).unwrap();
    assert_eq!(
        document["components"]["securitySchemes"]["bearer"]["scheme"]
            .as_str()
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("bearer")
    );
    let check = &document["paths"]["/v1/mailboxes/{mailbox}/calendar/access"]["get"];
    assert_eq!(check["security"][0]["bearer"][0], "calendar:check");
    let schemas = &document["components"]["schemas"];
    for field in ["mailbox", "ready", "status", "ewsResponseCode", "checkedAt"] {
        assert!(
            schemas["AccessBody"]["properties"][field].is_object(),
            "AccessBody.{field}"
        );
    }
    for field in ["previousLevel", "changed", "dryRun", "auditId", "appliedAt"] {
        assert!(
            schemas["ChangeBody"]["properties"][field].is_object(),
            "ChangeBody.{field}"
        );
    }
    for field in ["type", "title", "status", "detail", "code", "requestId"] {
        assert!(
            schemas["Problem"]["properties"][field].is_object(),
            "Problem.{field}"
        );
    }
}

#[test]
fn the_delegation_routes_document_their_403_refusals_and_the_strict_query() {
    let document = serde_json::to_value(ews_connector::api::openapi()).unwrap();
    let paths = &document["paths"];
    let operations = [
        (
            &paths["/v1/mailboxes/{mailbox}/calendar/delegation"]["put"],
            &["principal_not_allowed", "level_not_allowed"][..],
        ),
        (
            &paths["/v1/mailboxes/{mailbox}/calendar/delegation"]["delete"],
            &["principal_not_allowed"][..],
        ),
        (
            &paths["/v1/calendar/delegation:batch"]["post"],
            &["principal_not_allowed", "level_not_allowed"][..],
        ),
    ];
    for (operation, codes) in operations {
        let refusal = &operation["responses"]["403"];
        assert_eq!(
            refusal["content"]["application/problem+json"]["schema"]["$ref"],
            "#/components/schemas/Problem",
            "{operation}"
        );
        let description = refusal["description"].as_str().unwrap();
        for code in codes {
            assert!(description.contains(code), "{code}: {description}");
        }
        assert!(
            description.contains("Exchange") && description.contains("not called"),
            "{description}"
        );
    }
    let revoke = &paths["/v1/mailboxes/{mailbox}/calendar/delegation"]["delete"];
    assert!(
        revoke["responses"]["400"]["description"]
            .as_str()
            .unwrap()
            .contains("given twice"),
        "{revoke}"
    );
}
