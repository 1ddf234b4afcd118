//! Graph answers from the templates in `fixtures/sim/graph/`, with JSON-escaped values.

use http::StatusCode;

use super::directory::{GraphPermissionView, MailboxState};
use super::{Answer, json_escape};

const ERROR: &str = template!("error.json");
const CALENDAR: &str = template!("calendar.json");
const PERMISSION: &str = template!("permission.json");
const LIST: &str = template!("list.json");
pub(crate) const BATCH: &str = template!("batch.json");
pub(crate) const BATCH_RESPONSE: &str = template!("batch_response.json");

/// A random GUID (request ids, trace ids).
pub(crate) fn new_guid() -> String {
    let hex = hex::encode(rand::random::<[u8; 16]>());
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Graph's error body, with `request-id`/`client-request-id` headers matching `innerError`.
pub(crate) fn error(
    status: StatusCode,
    code: &str,
    message: &str,
    client_request_id: Option<&str>,
) -> Answer {
    let request_id = new_guid();
    let client_request_id = client_request_id
        .map(str::to_owned)
        .unwrap_or_else(|| request_id.clone());
    let body = ERROR
        .replace("{{CODE}}", &json_escape(code))
        .replace("{{MESSAGE}}", &json_escape(message))
        .replace(
            "{{DATE}}",
            &chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string(),
        )
        .replace("{{REQUEST_ID}}", &request_id)
        .replace("{{CLIENT_REQUEST_ID}}", &json_escape(&client_request_id));
    Answer::json(status, body)
        .with_header("request-id", request_id)
        .with_header("client-request-id", client_request_id)
}

fn context(base: &str, user: &str, rest: &str) -> String {
    json_escape(&format!(
        "{base}/v1.0/$metadata#users('{}')/{rest}",
        user.replace('\'', "''")
    ))
}

pub(crate) fn calendar(base: &str, user: &str, mailbox: &MailboxState) -> String {
    CALENDAR
        .replace("{{CONTEXT}}", &context(base, user, "calendar/$entity"))
        .replace("{{ID}}", &json_escape(&mailbox.calendar_id))
        .replace("{{NAME}}", &json_escape(&mailbox.calendar.name))
        .replace("{{CHANGE_KEY}}", &json_escape(&mailbox.change_key))
        .replace("{{CAN_SHARE}}", bool_text(mailbox.calendar.can_share))
        .replace(
            "{{CAN_VIEW_PRIVATE_ITEMS}}",
            bool_text(mailbox.calendar.can_view_private_items),
        )
        .replace("{{CAN_EDIT}}", bool_text(mailbox.calendar.can_edit))
        .replace("{{OWNER_NAME}}", &json_escape(&mailbox.name))
        .replace("{{OWNER_ADDRESS}}", &json_escape(&mailbox.address))
}

fn bool_text(value: bool) -> &'static str {
    if value { "true" } else { "false" }
}

/// One permission; with `@odata.context` when it is the whole answer.
pub(crate) fn permission(
    base: &str,
    user: Option<&str>,
    permission: &GraphPermissionView,
) -> String {
    let context = user
        .map(|user| {
            format!(
                "\"@odata.context\":\"{}\",",
                context(base, user, "calendar/calendarPermissions/$entity")
            )
        })
        .unwrap_or_default();
    let allowed: Vec<String> = permission
        .allowed_roles
        .iter()
        .map(|role| format!("\"{}\"", json_escape(role)))
        .collect();
    PERMISSION
        .replace("{{CONTEXT}}", &context)
        .replace("{{ID}}", &json_escape(&permission.id))
        .replace("{{IS_REMOVABLE}}", bool_text(permission.is_removable))
        .replace(
            "{{IS_INSIDE_ORGANIZATION}}",
            bool_text(permission.is_inside_organization),
        )
        .replace("{{ROLE}}", &json_escape(&permission.role))
        .replace("{{ALLOWED_ROLES}}", &allowed.join(","))
        .replace("{{NAME}}", &json_escape(&permission.name))
        .replace(
            "{{ADDRESS}}",
            &permission
                .address
                .as_ref()
                .map(|a| format!("\"{}\"", json_escape(a)))
                .unwrap_or_else(|| "null".to_owned()),
        )
}

pub(crate) fn permission_list(
    base: &str,
    user: &str,
    permissions: &[GraphPermissionView],
) -> String {
    let items: Vec<String> = permissions
        .iter()
        .map(|p| permission(base, None, p))
        .collect();
    LIST.replace(
        "{{CONTEXT}}",
        &context(base, user, "calendar/calendarPermissions"),
    )
    .replace("{{VALUE}}", &items.join(","))
}

/// Applies `$select=a,b` as Graph does on Outlook resources: the named properties, plus `id`
/// and the `@odata.*` annotations; on a collection, to each member of `value`.
pub(crate) fn select(body: String, select: Option<&str>) -> String {
    let Some(select) = select else {
        return body;
    };
    let wanted: Vec<&str> = select.split(',').map(str::trim).collect();
    let Ok(mut value) = serde_json::from_str::<serde_json::Value>(&body) else {
        return body;
    };
    let keep = |object: &mut serde_json::Map<String, serde_json::Value>| {
        object.retain(|key, _| {
            key == "id"
                || key.starts_with("@odata.")
                || wanted.iter().any(|w| w.eq_ignore_ascii_case(key))
        });
    };
    if let Some(items) = value.get_mut("value").and_then(|v| v.as_array_mut()) {
        for item in items {
            if let Some(object) = item.as_object_mut() {
                keep(object);
            }
        }
    } else if let Some(object) = value.as_object_mut() {
        keep(object);
    }
    value.to_string()
}
