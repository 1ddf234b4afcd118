//! `POST /v1.0/$batch`: JSON batching as "Combine multiple HTTP requests using JSON batching"
//! documents it. At most 20 parts; each part is served as if sent alone (its own bearer check,
//! faults, concurrency slot and latency); parts without `dependsOn` run concurrently, a part
//! waits for the parts it depends on and answers 424 when one of them failed.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use http::StatusCode;
use tokio::task::JoinSet;

use super::api::{self, ApiRequest};
use super::{Answer, RouteKind, Shared, json_escape, lock, render};

/// Graph's limit on the requests of one batch.
pub(crate) const MAX_PARTS: usize = 20;

struct Part {
    id: String,
    depends_on: Vec<String>,
    request: ApiRequest,
}

fn bad_request(message: &str, request: &ApiRequest) -> Answer {
    render::error(
        StatusCode::BAD_REQUEST,
        "BadRequest",
        message,
        request.client_request_id.as_deref(),
    )
}

fn parse(request: &ApiRequest) -> Result<Vec<Part>, String> {
    const INVALID: &str = "Invalid batch payload format.";
    let value: serde_json::Value =
        serde_json::from_slice(&request.body).map_err(|_| INVALID.to_owned())?;
    let parts = value
        .get("requests")
        .and_then(|r| r.as_array())
        .ok_or_else(|| INVALID.to_owned())?;
    if parts.len() > MAX_PARTS {
        return Err("Number of requests inside batch exceed the limit.".to_owned());
    }
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(parts.len());
    for part in parts {
        let text = |name: &str| part.get(name).and_then(|v| v.as_str()).map(str::to_owned);
        let (Some(id), Some(method), Some(url)) = (text("id"), text("method"), text("url")) else {
            return Err(INVALID.to_owned());
        };
        if !seen.insert(id.clone()) {
            return Err(format!("Batch request contains duplicate id '{id}'."));
        }
        let mut headers: HashMap<String, String> = HashMap::new();
        if let Some(object) = part.get("headers").and_then(|h| h.as_object()) {
            for (name, value) in object {
                if let Some(value) = value.as_str() {
                    headers.insert(name.to_ascii_lowercase(), value.to_owned());
                }
            }
        }
        let body = part.get("body").filter(|b| !b.is_null());
        if body.is_some() && !headers.contains_key("content-type") {
            return Err(format!(
                "Write request id : {id} does not contain Content-Type header or body."
            ));
        }
        if url.contains("://") {
            return Err(format!("Invalid request URL for request id : {id}."));
        }
        let relative = url.trim_start_matches('/');
        let relative = relative.strip_prefix("v1.0/").unwrap_or(relative);
        let (path, query) = match relative.split_once('?') {
            Some((path, query)) => (path.to_owned(), Some(query.to_owned())),
            None => (relative.to_owned(), None),
        };
        let depends_on = match part.get("dependsOn") {
            None | Some(serde_json::Value::Null) => Vec::new(),
            Some(serde_json::Value::Array(ids)) => ids
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| INVALID.to_owned())
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(INVALID.to_owned()),
        };
        out.push(Part {
            id,
            depends_on,
            request: ApiRequest {
                method: method.to_ascii_uppercase(),
                path: format!("/{path}"),
                query,
                authorization: request.authorization.clone(),
                client_request_id: headers
                    .get("client-request-id")
                    .cloned()
                    .or_else(|| request.client_request_id.clone()),
                content_type: headers.get("content-type").cloned(),
                prefer: headers.get("prefer").cloned().into_iter().collect(),
                if_match: headers.get("if-match").cloned(),
                body: body.map(|b| b.to_string().into_bytes()).unwrap_or_default(),
            },
        });
    }
    let ids: HashSet<&str> = out.iter().map(|p| p.id.as_str()).collect();
    for part in &out {
        if let Some(missing) = part.depends_on.iter().find(|d| !ids.contains(d.as_str())) {
            return Err(format!(
                "Request id : {} depends on request id : {missing}, which is not in the batch.",
                part.id
            ));
        }
    }
    Ok(out)
}

pub(crate) async fn serve(shared: &Arc<Shared>, request: ApiRequest) -> Answer {
    {
        let mut inner = lock(&shared.inner);
        inner.stats.batches += 1;
        *inner.routes.entry(RouteKind::Batch).or_default() += 1;
    }
    let parts = match parse(&request) {
        Ok(parts) => parts,
        Err(message) => return bad_request(&message, &request),
    };
    lock(&shared.inner).stats.batch_parts += parts.len() as u64;
    let mut answers: HashMap<String, Answer> = HashMap::new();
    let mut pending: Vec<&Part> = parts.iter().collect();
    while !pending.is_empty() {
        let (ready, waiting): (Vec<&Part>, Vec<&Part>) = pending
            .into_iter()
            .partition(|p| p.depends_on.iter().all(|d| answers.contains_key(d)));
        if ready.is_empty() {
            // A cycle: nothing can run.
            for part in waiting {
                answers.insert(part.id.clone(), failed_dependency(part));
            }
            break;
        }
        let mut running = JoinSet::new();
        for part in ready {
            let failed = part
                .depends_on
                .iter()
                .any(|d| answers.get(d).is_some_and(|a| a.status.as_u16() >= 400));
            if failed {
                answers.insert(part.id.clone(), failed_dependency(part));
                continue;
            }
            let shared = Arc::clone(shared);
            let id = part.id.clone();
            let request = part.request.clone();
            running.spawn(async move { (id, api::serve(&shared, request).await) });
        }
        while let Some(joined) = running.join_next().await {
            if let Ok((id, answer)) = joined {
                answers.insert(id, answer);
            }
        }
        pending = waiting;
    }
    if answers.values().any(|a| a.drop) {
        let mut dropped = Answer::json(StatusCode::OK, String::new());
        dropped.drop = true;
        return dropped;
    }
    let responses: Vec<String> = parts
        .iter()
        .filter_map(|part| answers.get(&part.id).map(|answer| (part, answer)))
        .map(|(part, answer)| response(&part.id, answer))
        .collect();
    Answer::json(
        StatusCode::OK,
        render::BATCH.replace("{{RESPONSES}}", &responses.join(",")),
    )
}

fn failed_dependency(part: &Part) -> Answer {
    render::error(
        StatusCode::FAILED_DEPENDENCY,
        "FailedDependency",
        "Dependency failed: the request this request depends on failed.",
        part.request.client_request_id.as_deref(),
    )
}

fn response(id: &str, answer: &Answer) -> String {
    let mut headers: Vec<String> = Vec::new();
    if answer.body.is_some() {
        headers.push("\"Content-Type\":\"application/json\"".to_owned());
    }
    for (name, value) in &answer.headers {
        let name = match *name {
            "retry-after" => "Retry-After",
            "www-authenticate" => "WWW-Authenticate",
            "preference-applied" => "Preference-Applied",
            other => other,
        };
        headers.push(format!(
            "\"{}\":\"{}\"",
            json_escape(name),
            json_escape(value)
        ));
    }
    let body = answer
        .body
        .as_ref()
        .map(|body| format!(",\"body\":{body}"))
        .unwrap_or_default();
    render::BATCH_RESPONSE
        .replace("{{ID}}", &json_escape(id))
        .replace("{{STATUS}}", &answer.status.as_u16().to_string())
        .replace("{{HEADERS}}", &headers.join(","))
        .replace("{{BODY}}", &body)
}
