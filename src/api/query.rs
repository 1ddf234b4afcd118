//! The one reader of a route's query string: strict about the parameters the route reads, blind
//! to the others.
//!
//! Invariants:
//! - a parameter the route reads and that is given twice (`?dryRun=true&dryRun=false`) is a 400
//!   `invalid_request` naming it, never "the last one wins": a client and a proxy that read
//!   different copies must not disagree about what was asked;
//! - a parameter given with an empty value (`principal=`, `start=`, or a bare `dryRun`) is a 400
//!   naming it, never taken for an absent one;
//! - names are compared after percent-decoding (`dry%52un` is `dryRun`), exactly and
//!   case-sensitively; parameters the route does not read are ignored, as API.md ignores
//!   unknown JSON fields.
//!
//! Entry type: [`Query`].

use crate::api::middleware::ApiError;
use crate::api::problem::{Problem, ProblemCode};

/// A parsed query string (`application/x-www-form-urlencoded`, as browsers and Java's HTTP
/// clients write it: `+` is a space).
pub(crate) struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Parses the raw query (`None`: no `?` at all).
    pub(crate) fn parse(raw: Option<&str>) -> Query {
        Query {
            pairs: url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
                .map(|(name, value)| (name.into_owned(), value.into_owned()))
                .collect(),
        }
    }

    /// Refuses the body's fields given as query parameters: a client that writes
    /// `PUT ...?dryRun=true` must not get a real change because the query was not read.
    ///
    /// # Errors
    /// 400 `invalid_request` naming the first of `fields` that is in the query.
    pub(crate) fn refuse_body_fields(&self, fields: &[&str]) -> Result<(), ApiError> {
        match fields
            .iter()
            .find(|field| self.pairs.iter().any(|(given, _)| given == *field))
        {
            Some(field) => Err(Problem::new(
                ProblemCode::InvalidRequest,
                format!(
                    "`{field}` is a field of this request's JSON body, not a query parameter; nothing was done"
                ),
            )
            .into()),
            None => Ok(()),
        }
    }

    /// The value of `name`, `None` when it is not given.
    ///
    /// # Errors
    /// 400 `invalid_request` naming `name` when it is given more than once or empty.
    pub(crate) fn optional(&self, name: &str) -> Result<Option<&str>, ApiError> {
        let mut values = self
            .pairs
            .iter()
            .filter(|(given, _)| given == name)
            .map(|(_, value)| value.as_str());
        let Some(value) = values.next() else {
            return Ok(None);
        };
        if values.next().is_some() {
            return Err(Problem::new(
                ProblemCode::InvalidRequest,
                format!("the parameter `{name}` is given more than once; give it once"),
            )
            .into());
        }
        if value.is_empty() {
            return Err(Problem::new(
                ProblemCode::InvalidRequest,
                format!("the parameter `{name}` is empty; give a value or leave it out"),
            )
            .into());
        }
        Ok(Some(value))
    }

    /// The value of `name`, which the route needs.
    ///
    /// # Errors
    /// As [`Query::optional`], and 400 `invalid_request` naming `name` when it is not given.
    pub(crate) fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.optional(name)?.ok_or_else(|| {
            Problem::new(
                ProblemCode::InvalidRequest,
                format!("the parameter `{name}` is required"),
            )
            .into()
        })
    }

    /// A boolean parameter: `true` or `false`, nothing else; `None` when it is not given.
    ///
    /// # Errors
    /// As [`Query::optional`], and 400 `invalid_request` naming `name` for any other value.
    pub(crate) fn flag(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.optional(name)? {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(_) => Err(Problem::new(
                ProblemCode::InvalidRequest,
                format!("the parameter `{name}` must be `true` or `false`"),
            )
            .into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Query;

    /// The problem's detail, or the value read.
    fn check(raw: Option<&str>, name: &str) -> Result<Option<String>, String> {
        Query::parse(raw)
            .optional(name)
            .map(|value| value.map(str::to_owned))
            .map_err(|error| {
                assert_eq!(
                    error.0.code,
                    crate::api::problem::ProblemCode::InvalidRequest
                );
                assert_eq!(error.0.status, 400);
                error.0.detail
            })
    }

    #[test]
    fn a_parameter_given_once_is_read_and_others_are_ignored() {
        assert_eq!(check(None, "principal"), Ok(None));
        assert_eq!(check(Some(""), "principal"), Ok(None));
        assert_eq!(
            check(
                Some("principal=a%40contoso.example&other=1&other=2&Principal="),
                "principal"
            ),
            Ok(Some("a@contoso.example".to_owned()))
        );
        assert_eq!(
            check(Some("principal=a+b"), "principal"),
            Ok(Some("a b".to_owned()))
        );
    }

    #[test]
    fn twice_or_empty_is_refused_naming_the_parameter() {
        for raw in [
            "dryRun=true&dryRun=false",
            "dryRun=true&dryRun=true",
            "dryRun=true&dry%52un=false",
            "dryRun=&dryRun=true",
        ] {
            let detail = check(Some(raw), "dryRun").unwrap_err();
            assert!(detail.contains("`dryRun`"), "{raw}: {detail}");
            assert!(detail.contains("more than once"), "{raw}: {detail}");
        }
        for raw in ["principal=", "principal", "principal=&x=1", "%70rincipal="] {
            let detail = check(Some(raw), "principal").unwrap_err();
            assert!(detail.contains("`principal`"), "{raw}: {detail}");
            assert!(detail.contains("empty"), "{raw}: {detail}");
        }
    }

    #[test]
    fn required_and_flag_name_the_parameter() {
        let query = Query::parse(Some("dryRun=yes&start=2026-12-01T00:00:00Z"));
        assert_eq!(query.required("start").unwrap(), "2026-12-01T00:00:00Z");
        let missing = query.required("end").unwrap_err();
        assert!(
            missing.0.detail.contains("`end` is required"),
            "{:?}",
            missing.0
        );
        let wrong = query.flag("dryRun").unwrap_err();
        assert!(wrong.0.detail.contains("`dryRun`"), "{:?}", wrong.0);
        let flag = |raw| Query::parse(raw).flag("dryRun").unwrap();
        assert_eq!(flag(Some("dryRun=true")), Some(true));
        assert_eq!(flag(Some("dryRun=false")), Some(false));
        assert_eq!(flag(None), None);
    }
}
