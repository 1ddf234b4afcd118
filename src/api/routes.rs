//! The one route table: every served route is registered here through utoipa-axum's
//! `OpenApiRouter`, so the router and the OpenAPI document are split from the same value and
//! cannot drift; the same registration ([`route!`]) reads each handler's request and answer
//! types from its signature ([`contracts`]), against which the document's schemas are checked.
//! The layers that every route shares are put on here too.
//!
//! Invariant: `/v1` routes sit behind [`auth::authorize`] (401/403); only the operations routes
//! of [`PUBLIC_PATHS`] are served without a token.

use std::sync::OnceLock;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use utoipa::openapi::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi as _};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};

use crate::api::batch::BATCH_BODY_LIMIT;
use crate::api::contract::{RouteContract, route};
use crate::api::{AppState, auth, batch, handlers, middleware, push};

/// The paths served without a token: health, readiness, metrics and the OpenAPI document.
pub const PUBLIC_PATHS: [&str; 4] = ["/healthz", "/readyz", "/metrics", "/openapi.json"];

/// Request bodies above this many bytes get 413 (API.md, Conventions).
pub const BODY_LIMIT: usize = 1024 * 1024;

/// The name of the bearer security scheme in the OpenAPI document; its scopes per operation are
/// what [`auth::authorize`] enforces. The `security(("bearer" = [..]))` entries of the
/// handlers must spell the same name (utoipa needs a literal there).
pub(crate) const BEARER: &str = "bearer";

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "ews-connector",
        description = "Calendar delegation for on-premises Exchange over EWS (API.md)"
    ),
    modifiers(&BearerScheme),
    components(schemas(crate::api::problem::Problem, crate::api::dto::Summary))
)]
struct ApiDoc;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// One table of routes: the router with its document, and the contract of each handler.
struct Table {
    routes: OpenApiRouter<AppState>,
    contracts: Vec<RouteContract>,
}

impl Table {
    fn new() -> Table {
        Table {
            routes: OpenApiRouter::new(),
            contracts: Vec::new(),
        }
    }

    /// Adds what [`route!`] made of some handlers of one path.
    fn with(
        mut self,
        (routes, contracts): (UtoipaMethodRouter<AppState>, Vec<RouteContract>),
    ) -> Table {
        self.routes = self.routes.routes(routes);
        self.contracts.extend(contracts);
        self
    }
}

/// The authenticated `/v1` routes (the batch routes, with their larger body limit, apart) and
/// the public operations routes, each with its document and its handlers' contracts. Each
/// handler is named once, in one [`route!`].
fn tables() -> [Table; 3] {
    let v1 = Table::new()
        .with(route!(handlers::check_access))
        .with(route!(handlers::grant, handlers::revoke))
        .with(route!(push::put_event, push::delete_event));
    let v1_batch = Table::new()
        .with(route!(batch::check_batch))
        .with(route!(batch::grant_batch))
        // A sync carries a whole window's events, so it gets the batch body limit.
        .with(route!(push::list_events, push::sync_events));
    let public = Table::new()
        .with(route!(handlers::healthz))
        .with(route!(handlers::readyz))
        .with(route!(handlers::metrics))
        .with(route!(handlers::openapi_json));
    [v1, v1_batch, public]
}

/// The OpenAPI 3.1 document of exactly the routes [`router`] serves.
pub fn openapi() -> OpenApi {
    static DOCUMENT: OnceLock<OpenApi> = OnceLock::new();
    DOCUMENT
        .get_or_init(|| {
            tables()
                .into_iter()
                .fold(
                    OpenApiRouter::with_openapi(ApiDoc::openapi()),
                    |all, table| all.merge(table.routes),
                )
                .split_for_parts()
                .1
        })
        .clone()
}

/// The contract of every route [`router`] serves, read from its handler's signature: the
/// request type its body is decoded into and the type it answers with. `tests/api_openapi.rs`
/// checks the document against it.
pub fn contracts() -> Vec<RouteContract> {
    tables()
        .into_iter()
        .flat_map(|table| table.contracts)
        .collect()
}

/// Everything the API serves, with its layers: request ids, problems, timeouts, panics, the
/// body limit, metrics and the per-request span.
pub fn router(state: AppState) -> Router {
    let [v1, v1_batch, public] = tables();
    let (v1, _) = v1.routes.split_for_parts();
    let (v1_batch, _) = v1_batch.routes.split_for_parts();
    let (public, _) = public.routes.split_for_parts();
    let v1 = v1
        .route_layer(from_fn_with_state(state.clone(), auth::authorize))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT));
    let v1_batch = v1_batch
        .route_layer(from_fn_with_state(state.clone(), auth::authorize))
        .layer(DefaultBodyLimit::max(BATCH_BODY_LIMIT))
        .layer(RequestBodyLimitLayer::new(BATCH_BODY_LIMIT));
    let public = public.layer(RequestBodyLimitLayer::new(BODY_LIMIT));
    with_layers(Router::new().merge(v1).merge(v1_batch).merge(public), state)
}

/// The layers every route shares, and the 404 fallback. The body limit is per table (see
/// [`router`]): 1 MiB, and 16 MiB for the batch routes.
fn with_layers(routes: Router<AppState>, state: AppState) -> Router {
    routes
        .fallback(handlers::not_found)
        .layer(
            ServiceBuilder::new()
                .layer(from_fn_with_state(state.clone(), middleware::observe))
                .layer(CatchPanicLayer::custom(middleware::PanicProblem)),
        )
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::body::Body;
    use axum::http::{Request, StatusCode, header};
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;
    use crate::api::Settings;
    use crate::delegation::{self, Delegation, PermissionLevel};
    use crate::domain::AccessMode;
    use crate::exchange::{self, Account, Exchange};
    use crate::secret::Secret;
    use crate::transport::{self, AuthScheme};

    fn offline_state() -> AppState {
        let url = "http://127.0.0.1:9/EWS/Exchange.asmx".parse().unwrap();
        let exchange = Arc::new(
            Exchange::new(exchange::Settings::new(
                transport::Settings::new(url, AuthScheme::Ntlm),
                "Exchange2013_SP1".to_owned(),
                vec![Account {
                    username: "svc".to_owned(),
                    smtp: "svc@contoso.example".to_owned(),
                    password: Secret::new("unused"),
                }],
            ))
            .unwrap(),
        );
        let delegation = Arc::new(Delegation::new(
            crate::backend::ews::EwsBackend::shared(exchange.clone()),
            delegation::Settings {
                access: AccessMode::Delegate,
                impersonation: true,
                principal: "p@contoso.example".to_owned(),
                required: PermissionLevel::Editor,
                allowed_principals: Vec::new(),
                max_level: PermissionLevel::Editor,
            },
            None,
        ));
        let settings = Settings {
            allowed_domains: Vec::new(),
            clients: Vec::new(),
            shutdown_grace: std::time::Duration::from_secs(1),
            request_timeout: std::time::Duration::from_secs(5),
            readiness_interval: std::time::Duration::from_secs(20),
            limits: crate::api::Limits::default(),
        };
        AppState::new(settings, delegation, exchange, None)
    }

    #[tokio::test]
    async fn a_panic_is_a_500_problem_without_its_message() {
        let state = offline_state();
        let routes = Router::new().route(
            "/boom",
            get(|| async {
                if true {
                    panic!("secret internal detail");
                }
                "unreachable"
            }),
        );
        let response = with_layers(routes, state)
            .oneshot(Request::get("/boom").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        let request_id = response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["code"], "internal_error");
        assert_eq!(body["requestId"], request_id.as_str());
        assert!(
            !body.to_string().contains("secret internal detail"),
            "{body}"
        );
    }
}
