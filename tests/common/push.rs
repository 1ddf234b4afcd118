//! Calendar push helpers for integration tests: an API state whose `Push` talks to a simulator
//! with chosen push settings and captured request bodies, event bodies, and request counts.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};

use ews_connector::api::AppState;
use ews_connector::delegation::{Delegation, PermissionLevel};
use ews_connector::domain::AccessMode;
use ews_connector::exchange::{Account, Exchange};
use ews_connector::push::{self, Push};
use ews_connector::secret::Secret;
use ews_connector::sim::{SimHandle, SimItem};
use ews_connector::transport::{AuthScheme, Settings as TransportSettings};

use crate::common::api::{BOTH_TOKEN, PRINCIPAL, json, oneshot, settings};
use crate::common::sim::{SVC_PASSWORD, sample_state, start_sim};

/// The sample mailbox that granted the push principal Editor: reachable by delegate access.
pub const GRANTED: &str = "granted@contoso.example";
/// A sample mailbox the service account may impersonate, with no delegation.
pub const PLAIN: &str = "plain@contoso.example";

/// The EWS operations that write items.
pub const WRITES: [&str; 3] = ["CreateItem", "UpdateItem", "DeleteItem"];

/// An API in front of a simulator, with push settings of the test's choosing.
pub struct PushSetup {
    pub sim: SimHandle,
    pub state: AppState,
    pub push: Arc<Push>,
    pub capture: tempfile::TempDir,
    /// The Exchange client the push uses (for a second `Push` on the same simulator).
    pub exchange: Arc<Exchange>,
}

impl PushSetup {
    /// The sample state, delegate access, batches of 50.
    pub async fn start() -> PushSetup {
        PushSetup::with(AccessMode::Delegate, 50).await
    }

    pub async fn with(access: AccessMode, batch_size: usize) -> PushSetup {
        PushSetup::with_sim(start_sim(&sample_state()).await, access, batch_size)
    }

    pub fn with_sim(sim: SimHandle, access: AccessMode, batch_size: usize) -> PushSetup {
        let mut push_settings = push::Settings::new(access);
        push_settings.batch_size = batch_size;
        PushSetup::with_settings(sim, push_settings)
    }

    pub fn with_settings(sim: SimHandle, push_settings: push::Settings) -> PushSetup {
        let access = push_settings.access;
        let capture = tempfile::tempdir().unwrap();
        let mut transport = TransportSettings::new(sim.url.parse().unwrap(), AuthScheme::Ntlm);
        transport.request_timeout = Duration::from_secs(10);
        transport.connect_timeout = Duration::from_secs(2);
        let exchange = Arc::new(
            Exchange::new(ews_connector::exchange::Settings {
                transport,
                version: "Exchange2013_SP1".to_owned(),
                accounts: vec![Account {
                    username: r"CONTOSO\svc-mytt".to_owned(),
                    smtp: "svc-mytt@contoso.example".to_owned(),
                    password: Secret::new(SVC_PASSWORD),
                }],
                capture_dir: Some(capture.path().to_owned()),
                retry_budget: Duration::from_secs(2),
                auth_failure_cooldown: Duration::from_secs(900),
            })
            .unwrap(),
        );
        let delegation = Arc::new(Delegation::new(
            ews_connector::backend::ews::EwsBackend::shared(exchange.clone()),
            ews_connector::delegation::Settings {
                access,
                impersonation: true,
                principal: PRINCIPAL.to_owned(),
                required: PermissionLevel::Editor,
                allowed_principals: Vec::new(),
                max_level: PermissionLevel::Editor,
            },
            None,
        ));
        let push = Arc::new(Push::new(
            ews_connector::backend::ews::EwsBackend::shared(exchange.clone()),
            push_settings,
        ));
        let state =
            AppState::with_push(settings(), delegation, push.clone(), exchange.clone(), None);
        PushSetup {
            sim,
            state,
            push,
            capture,
            exchange,
        }
    }

    /// EWS requests of one operation the simulator has received so far.
    pub fn requests(&self, operation: &str) -> u64 {
        self.sim.stats().requests(operation)
    }

    /// CreateItem + UpdateItem + DeleteItem requests so far.
    pub fn writes(&self) -> u64 {
        WRITES
            .iter()
            .map(|operation| self.requests(operation))
            .sum()
    }

    /// The mailbox's items as the simulator holds them, sorted by id.
    pub fn items(&self, mailbox: &str) -> Vec<SimItem> {
        let mut items = self.sim.calendar_items(mailbox).expect("a known mailbox");
        items.sort_by(|a, b| a.item_id.cmp(&b.item_id));
        items
    }

    /// The items that carry our external-id property with `external_id`.
    pub fn ours(&self, mailbox: &str, external_id: &str) -> Vec<SimItem> {
        self.items(mailbox)
            .into_iter()
            .filter(|item| our_id(item).as_deref() == Some(external_id))
            .collect()
    }

    /// Sends a request with the all-scopes token; answers the status and the JSON body (or
    /// `Null` for an empty one).
    pub async fn send(&self, method: &str, uri: &str, body: Option<&Value>) -> (StatusCode, Value) {
        let mut builder = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {BOTH_TOKEN}"));
        let body = match body {
            Some(value) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json");
                Body::from(value.to_string())
            }
            None => Body::empty(),
        };
        let response = oneshot(&self.state, builder.body(body).unwrap()).await;
        let status = response.status();
        if status == StatusCode::NO_CONTENT {
            return (status, Value::Null);
        }
        (status, json(response).await)
    }

    pub async fn put_event(
        &self,
        mailbox: &str,
        external_id: &str,
        body: &Value,
    ) -> (StatusCode, Value) {
        self.send("PUT", &event_uri(mailbox, external_id), Some(body))
            .await
    }

    pub async fn delete_event(&self, mailbox: &str, external_id: &str) -> (StatusCode, Value) {
        self.send("DELETE", &event_uri(mailbox, external_id), None)
            .await
    }

    /// `PUT .../calendar/events?start&end` with `{"events": events}`.
    pub async fn sync(
        &self,
        mailbox: &str,
        window: (DateTime<Utc>, DateTime<Utc>),
        events: &[Value],
    ) -> (StatusCode, Value) {
        let uri = format!("{}?{}", events_uri(mailbox), window_query(window));
        self.send("PUT", &uri, Some(&json!({ "events": events })))
            .await
    }

    /// Every captured request body.
    pub fn captured(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.capture.path())
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        files.sort();
        files
    }
}

/// The value of our `ExternalId` property on a simulator item, if it carries it.
pub fn our_id(item: &SimItem) -> Option<String> {
    item.extended_property(
        push::calendar::PROPERTY_SET_ID,
        push::calendar::EXTERNAL_ID_PROPERTY,
        "String",
    )
    .map(str::to_owned)
}

pub fn event_uri(mailbox: &str, external_id: &str) -> String {
    format!("/v1/mailboxes/{mailbox}/calendar/events/{external_id}")
}

pub fn events_uri(mailbox: &str) -> String {
    format!("/v1/mailboxes/{mailbox}/calendar/events")
}

pub fn window_query((start, end): (DateTime<Utc>, DateTime<Utc>)) -> String {
    format!(
        "start={}&end={}",
        start.format("%Y-%m-%dT%H:%M:%SZ"),
        end.format("%Y-%m-%dT%H:%M:%SZ")
    )
}

/// A lecture body at `start` (UTC) lasting `minutes`, in Europe/Amsterdam.
pub fn lecture(subject: &str, start: DateTime<Utc>, minutes: i64) -> Value {
    json!({
        "subject": subject,
        "start": start.to_rfc3339(),
        "end": (start + TimeDelta::minutes(minutes)).to_rfc3339(),
        "timeZone": "Europe/Amsterdam",
        "location": "Room 1.14",
        "body": "Lecturer: A. Turing",
        "categories": ["MyTimetable"],
        "isAllDay": false,
        "showAs": "Busy",
        "reminderMinutesBeforeStart": 15
    })
}

/// `lecture` with its external id, for a sync list.
pub fn listed(external_id: &str, mut body: Value) -> Value {
    body["externalId"] = json!(external_id);
    body
}

pub fn utc(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}
