//! [`JsonBody`]: the one reader of a JSON request body. It reads the body within the route's
//! limits, decodes it into the route's request type from `dto` with `serde_path_to_error`, and
//! answers a failure as a problem of our own, never with axum's plain-text rejection.
//!
//! Invariants:
//! - a wrong type, a missing field or a wrong value is 400 `invalid_request` whose detail names
//!   the field by its JSON path (`level`, `events[0].start`); a body that is not JSON says so
//!   with its line and column; unknown fields are ignored (API.md, Conventions);
//! - a body over the route's limit is 413 `payload_too_large`, and one that did not arrive in
//!   time is 408 `request_timeout` (`middleware.rs` owns that clock);
//! - a body that does not decode is answered only after the handler checked the path's
//!   mailbox ([`JsonBody::read`]), so a wrong address is named first, as before anything else.
//!
//! Entry types: [`JsonBody`], [`RequestBody`].

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::api::middleware::ApiError;
use crate::api::problem::{Problem, ProblemCode};

/// A request type of the API: decoded from JSON, and described in the OpenAPI document by the
/// same type.
pub(crate) trait RequestBody: DeserializeOwned + utoipa::ToSchema {
    /// The value of an absent body (empty, only whitespace, or `null`); `None` when the route
    /// needs a body.
    fn when_absent() -> Option<Self> {
        None
    }
}

/// The JSON body of a request, decoded: the handler's argument, whose type parameter is the
/// request type the OpenAPI document names (`api::contract` reads it from the signature).
///
/// A body that cannot be read (over the limit, too slow) is refused at once; one that does not
/// decode is kept as its problem until the handler [`read`](JsonBody::read)s it, so the handler
/// answers a wrong mailbox in the path first, whatever the body holds.
#[derive(Debug)]
pub(crate) struct JsonBody<T>(Result<T, ApiError>);

impl<T> JsonBody<T> {
    /// The decoded body.
    ///
    /// # Errors
    /// 400 `invalid_request` naming the field that is wrong (see the module comment).
    pub(crate) fn read(self) -> Result<T, ApiError> {
        self.0
    }
}

impl<T, S> FromRequest<S> for JsonBody<T>
where
    T: RequestBody,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                Problem::new(
                    ProblemCode::for_status(rejection.status().as_u16()),
                    rejection.body_text(),
                )
            })?;
        Ok(JsonBody(decode(&bytes)))
    }
}

/// Decodes a request body; see the module comment for the problems.
pub(crate) fn decode<T: RequestBody>(body: &[u8]) -> Result<T, ApiError> {
    let absent = || {
        T::when_absent().ok_or_else(|| {
            ApiError::from(Problem::new(
                ProblemCode::InvalidRequest,
                "the body is empty; this route takes a JSON object",
            ))
        })
    };
    let Some(&first) = body.iter().find(|byte| !byte.is_ascii_whitespace()) else {
        return absent();
    };
    // serde would read a struct from an array too, field by field; API.md's bodies are objects.
    if !matches!(first, b'{' | b'n') {
        return Err(Problem::new(
            ProblemCode::InvalidRequest,
            match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
                Ok(_) => "the body must be a JSON object".to_owned(),
                Err(error) => format!("the body is not JSON: {error}"),
            },
        )
        .into());
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value: Option<T> = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|error| Problem::new(ProblemCode::InvalidRequest, detail(&error)))?;
    deserializer.end().map_err(|error| {
        Problem::new(
            ProblemCode::InvalidRequest,
            format!("the body is not JSON: {error}"),
        )
    })?;
    match value {
        Some(value) => Ok(value),
        None => absent(),
    }
}

/// The detail of a body that does not decode: the field's JSON path and what is wrong with it.
fn detail(error: &serde_path_to_error::Error<serde_json::Error>) -> String {
    let inner = error.inner();
    if !inner.is_data() {
        return format!("the body is not JSON: {inner}");
    }
    // serde_json appends the position; the path says where, for people.
    let message = inner.to_string();
    let message = message
        .rsplit_once(" at line ")
        .map_or(message.as_str(), |(message, _)| message);
    let path = error.path().to_string();
    let field = |name: &str| {
        if path == "." {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        }
    };
    // The wording of serde's `Error::missing_field`, the one place a field is named in the
    // message rather than the path.
    if let Some(name) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'))
    {
        return format!("the field `{}` is missing", field(name));
    }
    if path == "." {
        format!("the body is not what this route takes: {message}")
    } else {
        format!("the field `{path}`: {message}")
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::{RequestBody, decode};
    use crate::api::problem::ProblemCode;

    #[derive(Debug, Deserialize, utoipa::ToSchema)]
    struct Events {
        events: Vec<Event>,
    }

    #[derive(Debug, Deserialize, utoipa::ToSchema)]
    struct Event {
        start: String,
    }

    impl RequestBody for Events {}

    #[derive(Debug, Default, PartialEq, Deserialize, utoipa::ToSchema)]
    #[serde(rename_all = "camelCase")]
    struct Optional {
        dry_run: Option<bool>,
    }

    impl RequestBody for Optional {
        fn when_absent() -> Option<Self> {
            Some(Optional::default())
        }
    }

    fn detail<T: RequestBody + std::fmt::Debug>(body: &str) -> String {
        let problem = decode::<T>(body.as_bytes()).unwrap_err().0;
        assert_eq!(problem.code, ProblemCode::InvalidRequest, "{body}");
        problem.detail
    }

    #[test]
    fn a_wrong_type_names_its_path() {
        assert_eq!(
            detail::<Events>(r#"{"events": [{"start": 1}]}"#),
            "the field `events[0].start`: invalid type: integer `1`, expected a string"
        );
        assert_eq!(
            detail::<Optional>(r#"{"dryRun": "yes"}"#),
            "the field `dryRun`: invalid type: string \"yes\", expected a boolean"
        );
    }

    #[test]
    fn a_missing_field_is_named_with_its_path() {
        assert_eq!(
            detail::<Events>(r#"{"events": [{"start": "a"}, {}]}"#),
            "the field `events[1].start` is missing"
        );
        assert_eq!(detail::<Events>("{}"), "the field `events` is missing");
    }

    #[test]
    fn not_json_and_not_an_object_are_said_so() {
        let text = detail::<Events>(r#"{"events": ["#);
        assert!(text.starts_with("the body is not JSON: "), "{text}");
        assert!(text.contains("line 1"), "{text}");
        assert_eq!(detail::<Events>("[1]"), "the body must be a JSON object");
        assert_eq!(
            detail::<Events>(r#""text""#),
            "the body must be a JSON object"
        );
        let text = detail::<Events>("not json");
        assert!(text.starts_with("the body is not JSON: "), "{text}");
        let text = detail::<Events>(r#"{"events": []} {"#);
        assert!(text.starts_with("the body is not JSON: "), "{text}");
    }

    #[test]
    fn unknown_fields_are_ignored_and_an_optional_body_may_be_absent() {
        let events: Events =
            decode(br#"{"events": [{"start": "a", "end": 2}], "later": 1}"#).unwrap();
        assert_eq!(events.events[0].start, "a");
        for absent in ["", " \n", "null"] {
            assert_eq!(
                decode::<Optional>(absent.as_bytes()).unwrap(),
                Optional::default()
            );
        }
        assert_eq!(
            detail::<Events>(" "),
            "the body is empty; this route takes a JSON object"
        );
        assert_eq!(
            detail::<Events>("null"),
            "the body is empty; this route takes a JSON object"
        );
    }
}
