//! The routes in effect, and, in a deployment that hosts many businesses, which business a
//! request is for and that business's routes.
//!
//! - An incoming call: the business whose line it called (the provider's `To`); a call to no
//!   business's line is answered as not in service.
//! - A provider's callback about a call: the business named in its address (`/b/{name}/…`), which
//!   saidno gave the provider with the call's answer (`Settings::callbacks_under`).
//! - The admin API: the business whose token it presents; the operator's API is the deployment's.
//! - The web pages: the business the browser signed in to (`session::BUSINESS_COOKIE`), whose own
//!   sessions then decide whether it is signed in; the sign-in form names the business.
//!
//! A business's routes are built when first needed and kept while recently used, up to a bound,
//! so that a deployment of many thousands keeps only its busy businesses in memory.

use std::convert::Infallible;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::future::BoxFuture;
use tower::Service;

use super::auth::bearer;
use super::session::{self, BUSINESS_COOKIE};
use super::{AppState, router, sms, webhook};
use crate::domain::{Business, BusinessId, BusinessName};
use crate::hosting::Hosting;

/// Businesses whose routes are kept in memory at most: each holds its snapshot of declines.
pub const LOADED_BUSINESSES: usize = 2_000;

/// The sign-in form is small; anything near this is not one.
const MAX_SIGN_IN_BODY: usize = 16 * 1024;

/// What the requests in effect are served by: the router, and the incoming-call route of each
/// provider. A reload replaces it whole, so a request is served by one configuration throughout.
pub struct Routes {
    pub(super) router: Router,
    calls: Vec<(String, Arc<webhook::Edge>)>,
    /// Where each provider posts a text to a line.
    texts: Vec<(String, Arc<webhook::Edge>)>,
    pub(super) state: AppState,
    /// In a deployment that may host many businesses, theirs (see `dispatch`).
    pub(super) tenants: Option<Arc<Tenants>>,
}

impl Routes {
    pub fn new(state: AppState) -> Self {
        let calls = state.edges.iter().map(|edge| (router::call_path(edge), edge.clone())).collect();
        let texts = state.edges.iter().map(|edge| (router::text_path(edge), edge.clone())).collect();
        Self { router: router(state.clone()), calls, texts, state, tenants: None }
    }

    /// The deployment's routes, which hand each request of a business to that business's.
    pub fn hosting(state: AppState, tenants: Arc<Tenants>) -> Self {
        Self { tenants: Some(tenants), ..Self::new(state) }
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// This business's edge for the provider of that name.
    pub(super) fn edge_named(&self, name: &str) -> Option<&Arc<webhook::Edge>> {
        self.calls.iter().map(|(_, edge)| edge).find(|edge| edge.provider.name() == name)
    }

    /// The provider whose text to a line this request is.
    pub(super) fn text_edge(&self, request: &Request) -> Option<&Arc<webhook::Edge>> {
        let path = request.uri().path();
        let texted = |(text_path, _): &&(String, Arc<webhook::Edge>)| text_path == path;
        (request.method() == Method::POST).then(|| self.texts.iter().find(texted).map(|(_, edge)| edge)).flatten()
    }

    pub(super) fn call_edge(&self, request: &Request) -> Option<&Arc<webhook::Edge>> {
        if request.method() != Method::POST {
            return None;
        }
        let path = request.uri().path();
        self.calls.iter().find(|(call_path, _)| call_path == path).map(|(_, edge)| edge)
    }
}

/// Builds a business's routes: its settings, its store, its state.
pub type Build = Arc<dyn Fn(Business) -> BoxFuture<'static, Result<Routes, String>> + Send + Sync>;

/// The businesses of a deployment that hosts many, and the routes of those in use.
pub struct Tenants {
    pub hosting: Arc<Hosting>,
    loaded: quick_cache::sync::Cache<BusinessId, Loaded>,
    build: Build,
}

/// A business's routes, with the record they were built from: a change of its settings or token
/// makes them stale.
#[derive(Clone)]
struct Loaded {
    business: Business,
    routes: Arc<Routes>,
}

/// Where a request goes.
enum Destination {
    Business(BusinessId),
    /// The deployment's own routes: the default business, the operator's API, health, assets.
    Deployment,
    /// A sign-in, whose form names the business.
    SignIn,
    NotFound,
}

impl Tenants {
    pub fn new(hosting: Arc<Hosting>, build: Build) -> Self {
        Self { hosting, loaded: quick_cache::sync::Cache::new(LOADED_BUSINESSES), build }
    }

    /// Whether requests are dispatched here, rather than all served by the deployment's routes.
    pub fn hosts_many(&self) -> bool {
        self.hosting.directory().hosts_many()
    }

    /// The routes of a business, built if they are not in memory or were built from an older
    /// record of it.
    async fn routes_of(&self, id: BusinessId) -> Result<Arc<Routes>, String> {
        let Some(business) = self.hosting.directory().business(id).cloned() else {
            return Err(format!("business {id} is not (or no longer) served here"));
        };
        if let Some(loaded) = self.loaded.get(&id) {
            if loaded.business == business {
                return Ok(loaded.routes);
            }
            self.loaded.remove(&id);
        }
        let build = self.build.clone();
        let loaded = self
            .loaded
            .get_or_insert_async(&id, async move {
                let routes = Arc::new(build(business.clone()).await?);
                Ok::<_, String>(Loaded { business, routes })
            })
            .await?;
        Ok(loaded.routes)
    }

    fn destination(&self, request: &Request) -> Destination {
        let directory = self.hosting.directory();
        let path = request.uri().path();
        if let Some(rest) = path.strip_prefix("/b/") {
            let name = rest.split('/').next().unwrap_or_default();
            return directory.named(name).map_or(Destination::NotFound, Destination::Business);
        }
        if path == "/login" && request.method() == Method::POST {
            return Destination::SignIn;
        }
        if let Some(api) = path.strip_prefix("/api/v1/") {
            if api == "operator" || api.starts_with("operator/") {
                return Destination::Deployment;
            }
            return bearer(request.headers())
                .and_then(|token| directory.token(token))
                .map_or(Destination::Deployment, Destination::Business);
        }
        session::cookie(request.headers(), BUSINESS_COOKIE)
            .and_then(|name| directory.named(name))
            .map_or(Destination::Deployment, Destination::Business)
    }
}

/// Serves one request of a deployment that hosts many businesses; `top` are the deployment's routes.
pub async fn serve(top: Arc<Routes>, request: Request) -> Result<Response, Infallible> {
    let Some(tenants) = top.tenants.as_ref() else {
        return Router::clone(&top.router).call(request).await;
    };
    if let Some(edge) = top.call_edge(&request) {
        let edge = edge.clone();
        return Ok(answer_call(tenants, &top, &edge, request).await);
    }
    if let Some(edge) = top.text_edge(&request) {
        let edge = edge.clone();
        return Ok(webhook::answered(answer_text(tenants, &top, &edge, request).await));
    }
    let (destination, request) = match tenants.destination(&request) {
        Destination::SignIn => signing_in(tenants, request).await,
        other => (other, request),
    };
    match destination {
        Destination::Business(id) => match tenants.routes_of(id).await {
            Ok(routes) => Router::clone(&routes.router).call(request).await,
            Err(error) => Ok(unavailable(&error)),
        },
        Destination::NotFound => Ok(StatusCode::NOT_FOUND.into_response()),
        Destination::Deployment | Destination::SignIn => Router::clone(&top.router).call(request).await,
    }
}

/// Verifies the call as the deployment's provider, then answers it as the business whose line it
/// called. A business whose routes cannot be built is answered `503`, so that the provider turns
/// to the number's fallback (another instance): its calls must not ring another business's phones.
async fn answer_call(tenants: &Tenants, top: &Routes, edge: &Arc<webhook::Edge>, request: Request) -> Response {
    let started = std::time::Instant::now();
    let call = match webhook::verified(&top.state, edge, request).await {
        Ok((_, params)) => edge.provider.incoming_call(&params).map_err(webhook::WebhookError::from),
        Err(refused) => Err(refused),
    };
    let call = match call {
        Ok(call) => call,
        Err(refused) => return refused.into_response(),
    };
    let line = tenants.hosting.directory().line(&call.to);
    let response = match line {
        None => webhook::not_in_service(&top.state, edge, &call),
        Some(id) => match tenants.routes_of(id).await {
            Ok(routes) => match routes.edge_named(edge.provider.name()) {
                Some(own) => webhook::answer_call(&routes.state, own, &call),
                None => unavailable("the business has no such provider"),
            },
            Err(error) => unavailable(&error),
        },
    };
    top.state.metrics.webhook_latency(started.elapsed().as_secs_f64());
    response
}

/// Verifies a text as the deployment's provider, then answers it as the business whose line it
/// was sent to: the owner's commands change that business's records and no other's. A text to a
/// number that is no business's line gets no reply.
async fn answer_text(
    tenants: &Tenants,
    top: &Routes,
    edge: &Arc<webhook::Edge>,
    request: Request,
) -> Result<Response, webhook::WebhookError> {
    let (_, params) = webhook::verified(&top.state, edge, request).await?;
    let line = edge.provider.texted(&params).and_then(|to| tenants.hosting.directory().line(to));
    let Some(id) = line else {
        tracing::warn!("a text to a number that is no business's line was ignored");
        return Ok(edge.markup(edge.provider.nothing()));
    };
    match tenants.routes_of(id).await {
        Ok(routes) => match routes.edge_named(edge.provider.name()) {
            Some(own) => sms::reply_to(&routes.state, own, &params).await,
            None => Ok(unavailable("the business has no such provider")),
        },
        Err(error) => Ok(unavailable(&error)),
    }
}

/// Reads the sign-in form for the business it names, and gives the request back whole.
async fn signing_in(tenants: &Tenants, request: Request) -> (Destination, Request) {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_SIGN_IN_BODY).await else {
        return (Destination::Deployment, Request::from_parts(parts, Body::empty()));
    };
    let named = form_urlencoded::parse(&body).find(|(name, _)| name == "business").map(|(_, value)| value);
    let destination = named
        .and_then(|name| BusinessName::parse(&name).ok())
        .and_then(|name| tenants.hosting.directory().named(name.as_str()))
        .map_or(Destination::Deployment, Destination::Business);
    (destination, Request::from_parts(parts, Body::from(body)))
}

fn unavailable(error: &str) -> Response {
    tracing::error!(%error, "a business's routes could not be built");
    (StatusCode::SERVICE_UNAVAILABLE, "this business cannot be served right now; try again shortly").into_response()
}
