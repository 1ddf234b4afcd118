//! The Graph simulator's calendar side, over plain HTTP/1.1: access tokens the `/v1.0` routes
//! accept (and refuse: missing, unknown, expired, without the permission), the mailbox
//! directory (unknown, on-premises, outside the RBAC scope), the calendar and
//! `calendarPermissions` routes, `$batch`, the per-mailbox concurrency limit, scripted faults
//! and the counters tests read.

mod common;

use std::time::Duration;

use base64::Engine as _;
use common::graph_http::{Reply, secret_token, send_with};
use ews_connector::sim::graph::{
    GraphFault, GraphFaultKind, GraphMailbox, GraphSimConfig, GraphSimHandle, RouteKind, start,
};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TENANT: &str = "uni.onmicrosoft.com";
const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
const SECRET: &str = "Gr4ph~S3cret.Value_0123456789";
const ANA: &str = "ana@uni.example";
const BEN: &str = "ben@uni.example";
const ONPREM: &str = "lecturer@uni.example";
const BOARD: &str = "board@uni.example";
const TIMETABLE: &str = "timetable@uni.example";

fn config() -> GraphSimConfig {
    let mut ana = GraphMailbox::new(ANA);
    ana.name = Some("Ana \"A\" Lopez".to_owned());
    ana.permissions.push(ews_connector::sim::graph::GraphGrant {
        address: "mentor@uni.example".to_owned(),
        name: Some("Mentor".to_owned()),
        role: "read".to_owned(),
    });
    let mut onprem = GraphMailbox::new(ONPREM);
    onprem.exchange_online = false;
    let mut board = GraphMailbox::new(BOARD);
    board.in_scope = false;
    GraphSimConfig {
        tenant_id: TENANT.to_owned(),
        client_id: CLIENT.to_owned(),
        secrets: vec![SECRET.to_owned()],
        mailboxes: vec![ana, GraphMailbox::new(BEN), onprem, board],
        ..GraphSimConfig::default()
    }
}

/// One request on its own connection; `None` when the server closed it without an answer.
async fn send(
    sim: &GraphSimHandle,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Option<Reply> {
    send_with(sim, method, path, token, &[], body).await
}

async fn call(
    sim: &GraphSimHandle,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&Value>,
) -> Reply {
    send(sim, method, path, Some(token), body)
        .await
        .expect("an answer")
}

async fn get_token(sim: &GraphSimHandle) -> String {
    secret_token(sim, TENANT, CLIENT, SECRET).await
}

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

fn calendar(user: &str) -> String {
    format!("/v1.0/users/{user}/calendar")
}

fn permissions(user: &str) -> String {
    format!("/v1.0/users/{user}/calendar/calendarPermissions")
}

fn permission(user: &str, id: &str) -> String {
    format!(
        "{}/{}",
        permissions(user),
        url::form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>()
    )
}

#[tokio::test]
async fn the_access_token_is_a_jwt_with_the_app_claims_and_roles() {
    let sim = start(GraphSimConfig {
        token_lifetime: Duration::from_secs(600),
        roles: vec!["Calendars.ReadWrite".to_owned(), "User.Read.All".to_owned()],
        ..config()
    })
    .await
    .unwrap();
    let token = get_token(&sim).await;
    assert_eq!(token.split('.').count(), 3);
    let claims = claims(&token);
    assert_eq!(claims["aud"], json!(sim.base_url()));
    assert_eq!(claims["appid"], json!(CLIENT));
    assert_eq!(
        claims["roles"],
        json!(["Calendars.ReadWrite", "User.Read.All"])
    );
    assert_eq!(claims["idtyp"], json!("app"));
    assert_eq!(claims["tid"].as_str().unwrap().len(), 36);
    let iat = claims["iat"].as_i64().unwrap();
    assert_eq!(claims["nbf"].as_i64().unwrap(), iat);
    assert_eq!(claims["exp"].as_i64().unwrap() - iat, 600);
    assert!(sim.token_is_valid(&token));
    sim.shutdown().await;
}

#[tokio::test]
async fn requests_without_a_valid_token_are_401_invalid_authentication_token() {
    let sim = start(GraphSimConfig {
        token_lifetime: Duration::from_secs(1),
        ..config()
    })
    .await
    .unwrap();
    let missing = send(&sim, "GET", &calendar(ANA), None, None).await.unwrap();
    assert_eq!(missing.status, 401);
    assert_eq!(missing.code(), "InvalidAuthenticationToken");
    assert_eq!(missing.message(), "Access token is empty.");
    assert!(
        missing
            .header("www-authenticate")
            .unwrap()
            .starts_with("Bearer ")
    );
    let forged = call(&sim, "GET", &calendar(ANA), "eyJ0.eyJ0.c2ln", None).await;
    assert_eq!(forged.status, 401);
    assert_eq!(forged.code(), "InvalidAuthenticationToken");

    let token = get_token(&sim).await;
    assert_eq!(
        call(&sim, "GET", &calendar(ANA), &token, None).await.status,
        200
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let expired = call(&sim, "GET", &calendar(ANA), &token, None).await;
    assert_eq!(expired.status, 401);
    assert_eq!(expired.code(), "InvalidAuthenticationToken");
    assert_eq!(
        expired.message(),
        "Lifetime validation failed, the token is expired."
    );
    let inner = &expired.json()["error"]["innerError"];
    assert_eq!(
        inner["request-id"].as_str(),
        expired.header("request-id"),
        "innerError and header carry one request id"
    );
    assert!(inner["date"].as_str().unwrap().contains('T'));
    assert_eq!(sim.stats().unauthorized, 3);
    sim.shutdown().await;
}

#[tokio::test]
async fn the_application_permission_in_roles_decides_reads_and_writes() {
    let sim = start(GraphSimConfig {
        roles: vec!["Calendars.Read".to_owned()],
        application_role_assignment: false,
        ..config()
    })
    .await
    .unwrap();
    let token = get_token(&sim).await;
    assert_eq!(
        call(&sim, "GET", &calendar(ANA), &token, None).await.status,
        200
    );
    let write = call(
        &sim,
        "POST",
        &permissions(ANA),
        &token,
        Some(&json!({"emailAddress": {"address": TIMETABLE}, "role": "write"})),
    )
    .await;
    assert_eq!(write.status, 403);
    assert_eq!(write.code(), "ErrorAccessDenied");
    sim.shutdown().await;

    let sim = start(GraphSimConfig {
        roles: vec!["Mail.Read".to_owned()],
        application_role_assignment: false,
        ..config()
    })
    .await
    .unwrap();
    let token = get_token(&sim).await;
    let read = call(&sim, "GET", &calendar(ANA), &token, None).await;
    assert_eq!(read.status, 403);
    assert_eq!(read.code(), "ErrorAccessDenied");
    sim.shutdown().await;
}

/// RBAC for Applications in Exchange Online: without any `roles` in the token, the role
/// assignment authorizes the mailboxes of its scope only; a tenant-wide Entra ID grant adds to it.
#[tokio::test]
async fn rbac_for_applications_authorizes_the_scope_and_entra_roles_add_to_it() {
    let body = json!({"emailAddress": {"address": TIMETABLE}, "role": "write"});
    // The default: no roles consented, the role assignment on.
    let sim = start(config()).await.unwrap();
    let token = get_token(&sim).await;
    assert_eq!(claims(&token)["roles"], json!([]));
    assert_eq!(
        call(&sim, "GET", &calendar(ANA), &token, None).await.status,
        200
    );
    let write = call(&sim, "POST", &permissions(ANA), &token, Some(&body)).await;
    assert_eq!(write.status, 201, "{}", write.body);
    for (method, body) in [("GET", None), ("POST", Some(&body))] {
        let outside = call(&sim, method, &permissions(BOARD), &token, body).await;
        assert_eq!(outside.status, 403, "{method}");
        assert_eq!(outside.code(), "ErrorAccessDenied");
    }
    // The assignment removed: nothing is authorized any more, in scope or not.
    sim.set_role_assignment(false);
    let removed = call(&sim, "GET", &calendar(ANA), &token, None).await;
    assert_eq!(removed.status, 403);
    assert_eq!(removed.code(), "ErrorAccessDenied");
    sim.shutdown().await;

    // Calendars.ReadWrite consented tenant-wide: every mailbox, the scope notwithstanding.
    let sim = start(GraphSimConfig {
        roles: vec!["Calendars.ReadWrite".to_owned()],
        ..config()
    })
    .await
    .unwrap();
    let token = get_token(&sim).await;
    assert_eq!(
        call(&sim, "GET", &calendar(BOARD), &token, None)
            .await
            .status,
        200
    );
    let write = call(&sim, "POST", &permissions(BOARD), &token, Some(&body)).await;
    assert_eq!(write.status, 201, "{}", write.body);
    sim.set_role_assignment(false);
    assert_eq!(
        call(&sim, "GET", &calendar(BOARD), &token, None)
            .await
            .status,
        200
    );
    sim.shutdown().await;

    // Calendars.Read tenant-wide and the assignment: reads everywhere, writes in the scope.
    let sim = start(GraphSimConfig {
        roles: vec!["Calendars.Read".to_owned()],
        ..config()
    })
    .await
    .unwrap();
    let token = get_token(&sim).await;
    assert_eq!(
        call(&sim, "GET", &calendar(BOARD), &token, None)
            .await
            .status,
        200
    );
    let outside = call(&sim, "POST", &permissions(BOARD), &token, Some(&body)).await;
    assert_eq!(outside.code(), "ErrorAccessDenied");
    let inside = call(&sim, "POST", &permissions(ANA), &token, Some(&body)).await;
    assert_eq!(inside.status, 201, "{}", inside.body);
    sim.shutdown().await;
}

#[tokio::test]
async fn the_calendar_by_address_or_object_id_with_select() {
    let sim = start(config()).await.unwrap();
    let token = get_token(&sim).await;
    let reply = call(&sim, "GET", &calendar("ANA@Uni.Example"), &token, None).await;
    assert_eq!(reply.status, 200);
    let value = reply.json();
    assert_eq!(value["canEdit"], json!(true));
    assert_eq!(value["canShare"], json!(true));
    assert_eq!(value["canViewPrivateItems"], json!(true));
    assert_eq!(value["isDefaultCalendar"], json!(true));
    assert_eq!(value["name"], json!("Calendar"));
    assert_eq!(
        value["owner"],
        json!({"name": "Ana \"A\" Lopez", "address": ANA})
    );
    assert!(
        value["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("/calendar/$entity")
    );

    sim.set_can_edit(BEN, false);
    let ben = call(
        &sim,
        "GET",
        &format!("{}?$select=canEdit", calendar(BEN)),
        &token,
        None,
    )
    .await;
    let ben = ben.json();
    assert_eq!(ben["canEdit"], json!(false));
    assert!(ben["id"].is_string());
    assert!(
        ben.get("name").is_none() && ben.get("owner").is_none(),
        "{ben}"
    );

    // The object id names the same mailbox.
    let object_id = sim.object_id(ANA).unwrap();
    let by_id = call(
        &sim,
        "GET",
        &calendar(&object_id.to_uppercase()),
        &token,
        None,
    )
    .await;
    assert_eq!(by_id.status, 200);
    assert_eq!(by_id.json()["id"], value["id"]);
    assert_eq!(by_id.json()["owner"]["address"], json!(ANA));
    sim.shutdown().await;
}

#[tokio::test]
async fn unknown_on_premises_and_out_of_scope_mailboxes() {
    let sim = start(config()).await.unwrap();
    let token = get_token(&sim).await;
    let unknown = call(&sim, "GET", &calendar("nobody@uni.example"), &token, None).await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.code(), "ErrorInvalidUser");
    assert_eq!(
        unknown.message(),
        "The requested user 'nobody@uni.example' is invalid."
    );
    let onprem = call(&sim, "GET", &calendar(ONPREM), &token, None).await;
    assert_eq!(onprem.status, 404);
    assert_eq!(onprem.code(), "MailboxNotEnabledForRESTAPI");

    let body = json!({"emailAddress": {"address": TIMETABLE}, "role": "write"});
    let patch = json!({"role": "read"});
    let id = "RGVmYXVsdA==";
    for (method, path, body) in [
        ("GET", calendar(BOARD), None),
        ("GET", permissions(BOARD), None),
        ("POST", permissions(BOARD), Some(&body)),
        ("GET", permission(BOARD, id), None),
        ("PATCH", permission(BOARD, id), Some(&patch)),
        ("DELETE", permission(BOARD, id), None),
    ] {
        let reply = call(&sim, method, &path, &token, body).await;
        assert_eq!(reply.status, 403, "{method} {path}");
        assert_eq!(reply.code(), "ErrorAccessDenied");
        assert_eq!(
            reply.message(),
            "Access is denied. Check credentials and try again."
        );
    }
    // Moved in from on-premises, then into the scope.
    assert!(sim.set_exchange_online(ONPREM, true));
    assert_eq!(
        call(&sim, "GET", &calendar(ONPREM), &token, None)
            .await
            .status,
        200
    );
    assert!(sim.set_in_scope(BOARD, true));
    assert_eq!(
        call(&sim, "GET", &calendar(BOARD), &token, None)
            .await
            .status,
        200
    );
    assert!(sim.remove_mailbox(BEN));
    assert_eq!(
        call(&sim, "GET", &calendar(BEN), &token, None).await.code(),
        "ErrorInvalidUser"
    );
    sim.add_mailbox(GraphMailbox::new("new@uni.example"))
        .unwrap();
    assert_eq!(
        call(&sim, "GET", &calendar("new@uni.example"), &token, None)
            .await
            .status,
        200
    );
    let unknown_route = call(
        &sim,
        "GET",
        "/v1.0/users/ana@uni.example/mailFolders",
        &token,
        None,
    )
    .await;
    assert_eq!(unknown_route.status, 400);
    assert_eq!(unknown_route.code(), "BadRequest");
    sim.shutdown().await;
}

#[tokio::test]
async fn calendar_permissions_list_create_get_update_delete() {
    let sim = start(config()).await.unwrap();
    let token = get_token(&sim).await;
    let list = call(&sim, "GET", &permissions(ANA), &token, None)
        .await
        .json();
    let entries = list["value"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["id"], json!("RGVmYXVsdA=="));
    assert_eq!(entries[0]["emailAddress"]["name"], json!("My Organization"));
    assert_eq!(entries[0]["emailAddress"]["address"], Value::Null);
    assert_eq!(entries[0]["isRemovable"], json!(false));
    assert_eq!(entries[0]["isInsideOrganization"], json!(true));
    assert_eq!(entries[0]["role"], json!("freeBusyRead"));
    assert_eq!(
        entries[1]["emailAddress"]["address"],
        json!("mentor@uni.example")
    );
    assert_eq!(entries[1]["role"], json!("read"));
    assert_eq!(entries[1]["isRemovable"], json!(true));
    assert!(
        entries[1]["allowedRoles"]
            .as_array()
            .unwrap()
            .contains(&json!("delegateWithPrivateEventAccess"))
    );
    let mentor_before = sim.permissions(ANA).unwrap()[1].clone();

    let created = call(
        &sim,
        "POST",
        &permissions(ANA),
        &token,
        Some(&json!({"emailAddress": {"name": "MyTimetable", "address": TIMETABLE}, "role": "write", "isInsideOrganization": true, "isRemovable": true})),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let created = created.json();
    assert_eq!(created["role"], json!("write"));
    assert_eq!(created["emailAddress"]["address"], json!(TIMETABLE));
    let id = created["id"].as_str().unwrap().to_owned();
    let again = call(
        &sim,
        "POST",
        &permissions(ANA),
        &token,
        Some(&json!({"emailAddress": {"address": TIMETABLE}, "role": "read"})),
    )
    .await;
    assert_eq!(again.status, 409);

    let got = call(&sim, "GET", &permission(ANA, &id), &token, None).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.json()["role"], json!("write"));

    let patched = call(
        &sim,
        "PATCH",
        &permission(ANA, &id),
        &token,
        Some(&json!({"role": "read"})),
    )
    .await;
    assert_eq!(patched.status, 200);
    assert_eq!(patched.json()["role"], json!("read"));
    let not_role = call(
        &sim,
        "PATCH",
        &permission(ANA, &id),
        &token,
        Some(&json!({"isRemovable": false})),
    )
    .await;
    assert_eq!(not_role.status, 400);
    let bad_role = call(
        &sim,
        "PATCH",
        &permission(ANA, &id),
        &token,
        Some(&json!({"role": "owner"})),
    )
    .await;
    assert_eq!(bad_role.status, 400);
    let custom = call(
        &sim,
        "PATCH",
        &permission(ANA, &id),
        &token,
        Some(&json!({"role": "custom"})),
    )
    .await;
    assert_eq!(custom.status, 400, "custom is read back, never set");

    let org = call(
        &sim,
        "DELETE",
        &permission(ANA, "RGVmYXVsdA=="),
        &token,
        None,
    )
    .await;
    assert_eq!(org.status, 400);
    let deleted = call(&sim, "DELETE", &permission(ANA, &id), &token, None).await;
    assert_eq!(deleted.status, 204);
    assert!(deleted.body.is_empty());
    let gone = call(&sim, "GET", &permission(ANA, &id), &token, None).await;
    assert_eq!(gone.status, 404);
    assert_eq!(gone.code(), "ErrorItemNotFound");
    let gone = call(&sim, "DELETE", &permission(ANA, &id), &token, None).await;
    assert_eq!(gone.code(), "ErrorItemNotFound");

    // A grantee outside the organization may read at most.
    let guest = json!({"emailAddress": {"address": "guest@partner.example"}, "role": "write"});
    let refused = call(&sim, "POST", &permissions(BEN), &token, Some(&guest)).await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.code(), "ErrorInvalidParameter");
    let guest = json!({"emailAddress": {"address": "guest@partner.example"}, "role": "read"});
    let shared = call(&sim, "POST", &permissions(BEN), &token, Some(&guest)).await;
    assert_eq!(shared.status, 201);
    assert_eq!(shared.json()["isInsideOrganization"], json!(false));
    assert_eq!(
        shared.json()["allowedRoles"],
        json!(["none", "freeBusyRead", "limitedRead", "read"])
    );

    // Other grantees identical throughout.
    let after = sim.permissions(ANA).unwrap();
    assert_eq!(after.len(), 2);
    assert_eq!(after[1], mentor_before);

    // Counters: per route and per mailbox.
    assert_eq!(sim.route_requests(RouteKind::CreatePermission), 4);
    assert_eq!(sim.route_requests(RouteKind::UpdatePermission), 4);
    assert_eq!(sim.route_requests(RouteKind::DeletePermission), 3);
    assert_eq!(sim.route_requests(RouteKind::GetPermission), 2);
    assert_eq!(sim.route_requests(RouteKind::ListPermissions), 1);
    let stats = sim.mailbox_stats(ANA);
    assert_eq!(stats.requests, 12);
    assert_eq!(stats.writes, 9);
    assert_eq!(stats.in_flight, 0);
    assert_eq!(sim.mailbox_stats(BEN).requests, 2);
    assert_eq!(sim.mailbox_stats(BOARD).requests, 0);
    sim.shutdown().await;
}

async fn concurrent_gets(sim: &GraphSimHandle, token: &str, users: &[&str]) -> Vec<Reply> {
    let mut tasks = Vec::new();
    for user in users {
        let path = calendar(user);
        let token = token.to_owned();
        let addr = sim.addr();
        tasks.push(tokio::spawn(async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            let request = format!(
                "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {token}\r\n\r\n"
            );
            stream.write_all(request.as_bytes()).await.unwrap();
            let mut raw = String::new();
            stream.read_to_string(&mut raw).await.unwrap();
            let (head, body) = raw.split_once("\r\n\r\n").unwrap();
            Reply {
                status: head.split(' ').nth(1).unwrap().parse().unwrap(),
                headers: head
                    .lines()
                    .skip(1)
                    .filter_map(|l| l.split_once(": "))
                    .map(|(n, v)| (n.to_owned(), v.to_owned()))
                    .collect(),
                body: body.to_owned(),
            }
        }));
    }
    let mut replies = Vec::new();
    for task in tasks {
        replies.push(task.await.unwrap());
    }
    replies
}

#[tokio::test]
async fn a_fifth_concurrent_request_to_one_mailbox_gets_429() {
    let sim = start(GraphSimConfig {
        latency: Duration::from_millis(500),
        retry_after: Duration::from_secs(3),
        ..config()
    })
    .await
    .unwrap();
    let token = get_token(&sim).await;
    let replies = concurrent_gets(&sim, &token, &[ANA; 5]).await;
    let refused: Vec<&Reply> = replies.iter().filter(|r| r.status == 429).collect();
    assert_eq!(refused.len(), 1);
    assert_eq!(replies.iter().filter(|r| r.status == 200).count(), 4);
    assert_eq!(refused[0].code(), "ApplicationThrottled");
    assert_eq!(
        refused[0].message(),
        "Application is over its MailboxConcurrency limit."
    );
    assert_eq!(refused[0].header("retry-after"), Some("3"));
    let stats = sim.mailbox_stats(ANA);
    assert_eq!(stats.max_in_flight, 4);
    assert_eq!(stats.concurrency_refusals, 1);
    assert_eq!(sim.stats().concurrency_refusals, 1);

    // Four to each of two mailboxes: none refused.
    let replies = concurrent_gets(&sim, &token, &[ANA, BEN, ANA, BEN, ANA, BEN, ANA, BEN]).await;
    assert!(replies.iter().all(|r| r.status == 200));
    assert_eq!(sim.mailbox_stats(BEN).max_in_flight, 4);
    assert_eq!(sim.stats().concurrency_refusals, 1);
    sim.shutdown().await;
}

fn part(id: &str, method: &str, url: &str) -> Value {
    json!({"id": id, "method": method, "url": url})
}

#[tokio::test]
async fn batches_serve_each_part_as_if_sent_alone() {
    let sim = start(config()).await.unwrap();
    let token = get_token(&sim).await;
    let batch = json!({"requests": [
        part("1", "GET", &format!("/users/{ANA}/calendar?$select=canEdit")),
        part("2", "GET", "/users/nobody@uni.example/calendar"),
        {"id": "3", "method": "POST", "url": format!("/users/{BEN}/calendar/calendarPermissions"),
         "headers": {"Content-Type": "application/json"},
         "body": {"emailAddress": {"address": TIMETABLE}, "role": "write"}},
        {"id": "4", "method": "GET", "url": format!("users/{BEN}/calendar/calendarPermissions"), "dependsOn": ["3"]},
        {"id": "5", "method": "GET", "url": format!("/users/{BEN}/calendar"), "dependsOn": ["2"]},
    ]});
    let reply = call(&sim, "POST", "/v1.0/$batch", &token, Some(&batch)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let responses = reply.json()["responses"].as_array().unwrap().clone();
    let by_id = |id: &str| {
        responses
            .iter()
            .find(|r| r["id"] == json!(id))
            .unwrap()
            .clone()
    };
    assert_eq!(by_id("1")["status"], json!(200));
    assert_eq!(by_id("1")["body"]["canEdit"], json!(true));
    assert_eq!(
        by_id("1")["headers"]["Content-Type"],
        json!("application/json")
    );
    assert_eq!(by_id("2")["status"], json!(404));
    assert_eq!(
        by_id("2")["body"]["error"]["code"],
        json!("ErrorInvalidUser")
    );
    assert_eq!(by_id("3")["status"], json!(201));
    assert_eq!(by_id("4")["body"]["value"].as_array().unwrap().len(), 2);
    assert_eq!(by_id("5")["status"], json!(424));
    assert_eq!(sim.stats().batches, 1);
    assert_eq!(sim.route_requests(RouteKind::Batch), 1);
    assert_eq!(sim.mailbox_stats(BEN).writes, 1);

    let too_many: Vec<Value> = (0..21)
        .map(|i| part(&i.to_string(), "GET", &format!("/users/{ANA}/calendar")))
        .collect();
    let refused = call(
        &sim,
        "POST",
        "/v1.0/$batch",
        &token,
        Some(&json!({"requests": too_many})),
    )
    .await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.code(), "BadRequest");
    assert_eq!(
        refused.message(),
        "Number of requests inside batch exceed the limit."
    );
    let twenty: Vec<Value> = (0..20)
        .map(|i| part(&i.to_string(), "GET", &format!("/users/{BOARD}/calendar")))
        .collect();
    let ok = call(
        &sim,
        "POST",
        "/v1.0/$batch",
        &token,
        Some(&json!({"requests": twenty})),
    )
    .await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.json()["responses"].as_array().unwrap().len(), 20);
    let no_type = json!({"requests": [{"id": "1", "method": "POST", "url": format!("/users/{ANA}/calendar/calendarPermissions"), "body": {"role": "read"}}]});
    let no_type = call(&sim, "POST", "/v1.0/$batch", &token, Some(&no_type)).await;
    assert_eq!(no_type.status, 400);
    let unauthenticated = send(
        &sim,
        "POST",
        "/v1.0/$batch",
        None,
        Some(&json!({"requests": [part("1", "GET", &format!("/users/{ANA}/calendar"))]})),
    )
    .await
    .unwrap();
    let part_answer = &unauthenticated.json()["responses"][0];
    assert_eq!(part_answer["status"], json!(401));
    assert_eq!(
        part_answer["body"]["error"]["code"],
        json!("InvalidAuthenticationToken")
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn batch_parts_count_against_the_mailbox_concurrency_limit() {
    let sim = start(GraphSimConfig {
        latency: Duration::from_millis(300),
        ..config()
    })
    .await
    .unwrap();
    let token = get_token(&sim).await;
    let parts: Vec<Value> = (1..=5)
        .map(|i| part(&i.to_string(), "GET", &format!("/users/{ANA}/calendar")))
        .collect();
    let reply = call(
        &sim,
        "POST",
        "/v1.0/$batch",
        &token,
        Some(&json!({"requests": parts})),
    )
    .await;
    let responses = reply.json()["responses"].as_array().unwrap().clone();
    let throttled: Vec<&Value> = responses
        .iter()
        .filter(|r| r["status"] == json!(429))
        .collect();
    assert_eq!(throttled.len(), 1, "{}", reply.body);
    assert_eq!(throttled[0]["headers"]["Retry-After"], json!("1"));
    assert_eq!(
        throttled[0]["body"]["error"]["code"],
        json!("ApplicationThrottled")
    );
    assert_eq!(sim.mailbox_stats(ANA).max_in_flight, 4);
    assert_eq!(sim.stats().api_requests, 5);
    sim.shutdown().await;
}

#[tokio::test]
async fn scripted_faults_throttle_fail_and_drop() {
    let sim = start(config()).await.unwrap();
    let token = get_token(&sim).await;
    sim.push_fault(GraphFault::for_mailbox(
        ANA,
        2,
        GraphFaultKind::Throttle {
            retry_after_secs: 7,
        },
    ));
    // Another mailbox is not affected.
    assert_eq!(
        call(&sim, "GET", &calendar(BEN), &token, None).await.status,
        200
    );
    for _ in 0..2 {
        let throttled = call(&sim, "GET", &calendar(ANA), &token, None).await;
        assert_eq!(throttled.status, 429);
        assert_eq!(throttled.header("retry-after"), Some("7"));
        assert_eq!(throttled.code(), "TooManyRequests");
    }
    assert_eq!(
        call(&sim, "GET", &calendar(ANA), &token, None).await.status,
        200
    );

    sim.push_fault(GraphFault {
        mailbox: None,
        count: 1,
        kind: GraphFaultKind::Unavailable {
            retry_after_secs: 2,
        },
    });
    let unavailable = call(&sim, "GET", &calendar(BEN), &token, None).await;
    assert_eq!(unavailable.status, 503);
    assert_eq!(unavailable.header("retry-after"), Some("2"));

    sim.push_fault(GraphFault::for_mailbox(ANA, 1, GraphFaultKind::Drop));
    let body = json!({"emailAddress": {"address": TIMETABLE}, "role": "write"});
    assert!(
        send(&sim, "POST", &permissions(ANA), Some(&token), Some(&body))
            .await
            .is_none()
    );
    assert_eq!(
        sim.permissions(ANA).unwrap().len(),
        2,
        "a dropped request is not processed"
    );
    assert_eq!(sim.stats().faults_applied, 4);
    sim.shutdown().await;
}

#[test]
fn the_sample_tenant_file_reads_and_bad_roles_are_refused() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/sim/graph/sample.toml"
    ))
    .unwrap();
    let config = GraphSimConfig::from_toml(&text).unwrap();
    assert_eq!(config.tenant_id, "uni.onmicrosoft.com");
    assert_eq!(config.mailbox_concurrency, 4);
    assert!(config.mailboxes.iter().any(|m| !m.exchange_online));
    assert!(config.mailboxes.iter().any(|m| !m.in_scope));
    assert!(config.roles.is_empty(), "the RBAC for Applications setup");
    assert!(config.application_role_assignment);
    let bad = text.replace("role = \"read\"", "role = \"reviewer\"");
    assert!(
        GraphSimConfig::from_toml(&bad)
            .unwrap_err()
            .contains("reviewer")
    );
    let twice = format!("{text}\n[[mailboxes]]\naddress = \"Student1@uni.example\"\n");
    assert!(
        GraphSimConfig::from_toml(&twice)
            .unwrap_err()
            .contains("twice")
    );
}
