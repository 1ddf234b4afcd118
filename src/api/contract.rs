//! The route contract read from the handlers' signatures: which request type a route decodes
//! (its [`JsonBody<T>`] argument) and which type it answers with (`Json<T>`, `Ndjson<T>`), so
//! the OpenAPI document can be checked against the code that serves it.
//!
//! Invariant: a [`RouteContract`] is built from the same handler value that `routes.rs`
//! registers with the router and the document ([`route!`]); nobody writes its types by hand, so
//! a `request_body` or `body` in a `#[utoipa::path]` that names another type than the handler
//! takes or returns is caught by `tests/api_openapi.rs`.
//!
//! Entry types: [`RouteContract`], [`Endpoint`].

use std::borrow::Cow;
use std::future::Future;
use std::marker::PhantomData;

use axum::Json;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use utoipa::ToSchema;
use utoipa::openapi::path::HttpMethod;

use crate::api::json::{JsonBody, RequestBody};
use crate::api::middleware::ApiError;

/// One route as its handler's signature defines it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteContract {
    /// Lower case, as the OpenAPI document's path items spell it (`put`).
    pub method: &'static str,
    /// The path template (`/v1/mailboxes/{mailbox}/calendar/delegation`).
    pub path: String,
    /// The schema name of the type the handler decodes its body into; `None` without a body.
    pub request: Option<Cow<'static, str>>,
    /// The schema name of the type of its successful answer; `None` for text or no body.
    pub response: Option<Cow<'static, str>>,
}

impl RouteContract {
    /// The contracts of one handler: one per method its `#[utoipa::path]` (`P`) names, with
    /// the types of `handler`'s signature.
    pub(crate) fn of<P, M, H>(_handler: &H) -> Vec<RouteContract>
    where
        P: utoipa::Path,
        H: Endpoint<M>,
    {
        P::methods()
            .into_iter()
            .map(|method| RouteContract {
                method: method_name(&method),
                path: P::path(),
                request: H::request(),
                response: H::response(),
            })
            .collect()
    }
}

fn method_name(method: &HttpMethod) -> &'static str {
    match method {
        HttpMethod::Get => "get",
        HttpMethod::Post => "post",
        HttpMethod::Put => "put",
        HttpMethod::Delete => "delete",
        HttpMethod::Options => "options",
        HttpMethod::Head => "head",
        HttpMethod::Patch => "patch",
        HttpMethod::Trace => "trace",
    }
}

/// A handler function, seen through its signature: `Marker` is the tuple of its arguments (as
/// axum's own `Handler<T, S>`), so each arity has its own impl.
pub(crate) trait Endpoint<Marker> {
    /// The schema name of the body its last argument decodes.
    fn request() -> Option<Cow<'static, str>>;
    /// The schema name of its answer's body.
    fn response() -> Option<Cow<'static, str>>;
}

/// A handler's last argument: the one that may read the body.
pub(crate) trait LastArgument {
    fn request() -> Option<Cow<'static, str>>;
}

impl<T: RequestBody> LastArgument for JsonBody<T> {
    fn request() -> Option<Cow<'static, str>> {
        Some(T::name())
    }
}

/// Arguments that read no body.
macro_rules! no_body {
    ($($ty:ty),+) => {
        $(impl<T> LastArgument for $ty {
            fn request() -> Option<Cow<'static, str>> {
                None
            }
        })+
    };
}

no_body!(State<T>, Path<T>, Extension<T>);

impl LastArgument for RawQuery {
    fn request() -> Option<Cow<'static, str>> {
        None
    }
}

/// What a handler returns.
pub(crate) trait Answer {
    fn response() -> Option<Cow<'static, str>>;
}

impl<T: Answer> Answer for Result<T, ApiError> {
    fn response() -> Option<Cow<'static, str>> {
        T::response()
    }
}

impl<T: ToSchema> Answer for Json<T> {
    fn response() -> Option<Cow<'static, str>> {
        Some(T::name())
    }
}

impl<T: ToSchema> Answer for (StatusCode, Json<T>) {
    fn response() -> Option<Cow<'static, str>> {
        Some(T::name())
    }
}

impl<T: ToSchema> Answer for Ndjson<T> {
    fn response() -> Option<Cow<'static, str>> {
        Some(T::name())
    }
}

/// Answers without a JSON body: no content, text, or a response built by hand (metrics, the
/// document itself).
macro_rules! no_schema {
    ($($ty:ty),+) => {
        $(impl Answer for $ty {
            fn response() -> Option<Cow<'static, str>> {
                None
            }
        })+
    };
}

no_schema!(StatusCode, &'static str, String, Response);

impl<F, Fut, Out> Endpoint<()> for F
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Out>,
    Out: Answer,
{
    fn request() -> Option<Cow<'static, str>> {
        None
    }

    fn response() -> Option<Cow<'static, str>> {
        Out::response()
    }
}

macro_rules! endpoint {
    ($($argument:ident),*) => {
        impl<F, Fut, Out, $($argument,)* Last> Endpoint<($($argument,)* Last,)> for F
        where
            F: FnOnce($($argument,)* Last) -> Fut,
            Fut: Future<Output = Out>,
            Out: Answer,
            Last: LastArgument,
        {
            fn request() -> Option<Cow<'static, str>> {
                Last::request()
            }

            fn response() -> Option<Cow<'static, str>> {
                Out::response()
            }
        }
    };
}

endpoint!();
endpoint!(A1);
endpoint!(A1, A2);
endpoint!(A1, A2, A3);
endpoint!(A1, A2, A3, A4);
endpoint!(A1, A2, A3, A4, A5);
endpoint!(A1, A2, A3, A4, A5, A6);

/// A streamed NDJSON answer whose lines are `T` (the single call's body), a failed line or the
/// summary; see `batch.rs`.
pub(crate) struct Ndjson<T> {
    response: Response,
    line: PhantomData<fn() -> T>,
}

impl<T> Ndjson<T> {
    pub(crate) fn new(response: Response) -> Ndjson<T> {
        Ndjson {
            response,
            line: PhantomData,
        }
    }
}

impl<T> IntoResponse for Ndjson<T> {
    fn into_response(self) -> Response {
        self.response
    }
}

/// Registers handlers with an `OpenApiRouter` (through utoipa-axum's `routes!`) and returns,
/// from the same handler values, their [`RouteContract`]s.
macro_rules! route {
    ($($module:ident :: $handler:ident),+ $(,)?) => {
        (
            utoipa_axum::routes!($($module::$handler),+),
            {
                let mut contracts = Vec::new();
                $(
                    utoipa_axum::paste! {
                        contracts.extend($crate::api::contract::RouteContract::of::<
                            $module::[<__path_ $handler>],
                            _,
                            _,
                        >(&$module::$handler));
                    }
                )+
                contracts
            },
        )
    };
}

pub(crate) use route;
