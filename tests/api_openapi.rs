//! `/openapi.json`: an OpenAPI 3.1 document of exactly the routes the router serves, whose
//! request and response schemas are the types the handlers decode and answer with.

mod common;

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use ews_connector::api::problem::ProblemCode;
use serde_json::{Value, json as json_value};

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

/// The schema names that `$ref`s under `value` point to.
fn referenced(value: &Value) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        match value {
            Value::Object(fields) => {
                if let Some(Value::String(target)) = fields.get("$ref") {
                    names.insert(
                        target
                            .strip_prefix("#/components/schemas/")
                            .unwrap_or(target)
                            .to_owned(),
                    );
                }
                stack.extend(fields.values());
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    names
}

#[test]
fn each_route_documents_the_types_its_handler_decodes_and_answers_with() {
    let document = serde_json::to_value(ews_connector::api::openapi()).unwrap();
    // The contracts come from the handlers' signatures, registered by the same table as the
    // router and the document.
    let contracts = ews_connector::api::contracts();
    let contracted: BTreeSet<(String, String)> = contracts
        .iter()
        .map(|contract| (contract.method.to_uppercase(), contract.path.clone()))
        .collect();
    assert_eq!(contracted, operations(&document));
    assert_eq!(
        contracted.len(),
        contracts.len(),
        "one contract per operation"
    );

    let names = |name: &Option<std::borrow::Cow<'static, str>>| -> BTreeSet<String> {
        name.iter().map(|name| name.to_string()).collect()
    };
    let mut bodies = 0;
    for contract in &contracts {
        let route = format!("{} {}", contract.method, contract.path);
        let operation = &document["paths"][&contract.path][contract.method];
        assert!(operation.is_object(), "{route}");
        assert_eq!(
            referenced(&operation["requestBody"]),
            names(&contract.request),
            "{route}: the request body's schema is the type the handler decodes"
        );
        let successes: Vec<(&String, &Value)> = operation["responses"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(status, _)| status.starts_with('2'))
            .collect();
        assert!(!successes.is_empty(), "{route}");
        for (status, response) in successes {
            assert_eq!(
                referenced(&response["content"]),
                names(&contract.response),
                "{route} {status}: the answer's schema is the type the handler returns"
            );
        }
        bodies += usize::from(contract.request.is_some());
    }
    // Grant, the two batches, one event and a sync take a body.
    assert_eq!(bodies, 5, "{contracts:#?}");
}

#[test]
fn every_referenced_schema_is_in_the_document() {
    let document = serde_json::to_value(ews_connector::api::openapi()).unwrap();
    let schemas = document["components"]["schemas"].as_object().unwrap();
    for name in referenced(&document) {
        assert!(
            schemas.contains_key(&name),
            "{name} is referenced, not defined"
        );
    }
    for name in [
        "GrantBody",
        "EventInputBody",
        "SyncBody",
        "SyncEventBody",
        "BatchBody",
        "Summary",
    ] {
        assert!(schemas.contains_key(name), "{name}");
    }
}

#[test]
fn the_problem_codes_are_api_md_s_table() {
    let document = serde_json::to_value(ews_connector::api::openapi()).unwrap();
    let listed: Vec<String> =
        serde_json::from_value(document["components"]["schemas"]["ProblemCode"]["enum"].clone())
            .unwrap();
    let ours: Vec<String> = ProblemCode::ALL
        .iter()
        .map(|code| code.to_string())
        .collect();
    assert_eq!(listed, ours, "the document lists every code");
    assert_eq!(
        referenced(&document["components"]["schemas"]["Problem"]["properties"]["code"]),
        BTreeSet::from(["ProblemCode".to_owned()])
    );

    if !common::schema::require_or_skip("shared") {
        return;
    }
    let contract =
        std::fs::read_to_string(common::schema::shared_dir().unwrap().join("API.md")).unwrap();
    // `| `a`, `b` | 400 | ... |` and `| `a`, `b` | 404, 405 | ... |`: one status for all codes,
    // or one per code.
    let mut table = BTreeSet::new();
    for row in contract.lines().filter(|line| line.starts_with("| `")) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let codes: Vec<&str> = cells[1]
            .split(',')
            .map(|code| code.trim().trim_matches('`'))
            .collect();
        let statuses: Vec<u16> = cells[2]
            .split(',')
            .map(|status| status.trim().parse().unwrap())
            .collect();
        for (index, code) in codes.iter().enumerate() {
            let status = if statuses.len() == 1 {
                statuses[0]
            } else {
                statuses[index]
            };
            table.insert(((*code).to_owned(), status));
        }
    }
    let ours: BTreeSet<(String, u16)> = ProblemCode::ALL
        .iter()
        .map(|code| (code.to_string(), code.status()))
        .collect();
    assert_eq!(ours, table);
}

#[tokio::test]
async fn a_wrong_type_in_a_body_is_a_problem_naming_its_path() {
    let state = offline_state(settings());
    let cases = [
        (
            "PUT",
            "/v1/mailboxes/a@contoso.example/calendar/delegation",
            json_value!({"level": 5}),
            "`level`",
        ),
        (
            "PUT",
            "/v1/mailboxes/a@contoso.example/calendar/events?start=2026-12-01T00:00:00Z&end=2026-12-08T00:00:00Z",
            json_value!({"events": [{"start": 1}]}),
            "`events[0].start`",
        ),
        (
            "PUT",
            "/v1/mailboxes/a@contoso.example/calendar/events/mytt-1",
            json_value!({"subject": "Lecture", "start": "2026-12-01T09:00:00+01:00", "end": "2026-12-01T10:00:00+01:00", "timeZone": "Europe/Amsterdam", "categories": [1]}),
            "`categories[0]`",
        ),
        (
            "POST",
            "/v1/calendar/access:batch",
            json_value!({"mailboxes": ["a@contoso.example", 7]}),
            "`mailboxes[1]`",
        ),
        (
            "POST",
            "/v1/calendar/delegation:batch",
            json_value!({"mailboxes": [], "dryRun": "yes"}),
            "`dryRun`",
        ),
        (
            "POST",
            "/v1/calendar/access:batch",
            json_value!({"later": true}),
            "`mailboxes` is missing",
        ),
    ];
    for (method, uri, body, named) in cases {
        let response = oneshot(
            &state,
            Request::builder()
                .method(method)
                .uri(uri)
                .header(header::AUTHORIZATION, format!("Bearer {BOTH_TOKEN}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{uri} {body}");
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        let problem = json(response).await;
        assert_eq!(problem["code"], "invalid_request", "{problem}");
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains(named), "{uri} {body}: {detail}");
        assert!(problem["requestId"].is_string(), "{problem}");
        if uri.contains("/mailboxes/") {
            assert_eq!(problem["mailbox"], "a@contoso.example", "{problem}");
        }
    }
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_problem_not_plain_text() {
    let state = offline_state(settings());
    for body in ["{\"level\": ", "not json", "[]"] {
        let response = oneshot(
            &state,
            Request::put("/v1/mailboxes/a@contoso.example/calendar/delegation")
                .header(header::AUTHORIZATION, format!("Bearer {BOTH_TOKEN}"))
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        let problem = json(response).await;
        assert_eq!(problem["code"], "invalid_request", "{body}: {problem}");
        assert!(
            problem["detail"].as_str().unwrap().starts_with("the body "),
            "{body}: {problem}"
        );
    }
}
