//! Where every request comes in. An incoming call goes straight to its provider's handler; every
//! other request goes through the router and its layers. A busy line's calls are nearly all of
//! the requests saidno gets, and the router would give each one its path parameters, its matched
//! path, the caller's address and a boxed clone of the route, none of which a call reads.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll};

use arc_swap::ArcSwap;
use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::Method;
use axum::response::Response;
use axum::routing::future::RouteFuture;
use axum::serve::IncomingStream;
use futures_util::future::{BoxFuture, Either, FutureExt};
use tokio::net::TcpListener;
use tower::Service;

use super::dispatch::{self, Tenants};
use super::{AppState, router, webhook};

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

/// Makes the service for each connection, which knows the peer's address.
#[derive(Clone)]
pub struct Entry(pub Arc<ArcSwap<Routes>>);

impl Service<IncomingStream<'_, TcpListener>> for Entry {
    type Response = Connection;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Connection, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, stream: IncomingStream<'_, TcpListener>) -> Self::Future {
        std::future::ready(Ok(Connection { routes: self.0.clone(), peer: *stream.remote_addr() }))
    }
}

/// One connection's requests, each handed to the routes in effect when it arrives.
#[derive(Clone)]
pub struct Connection {
    routes: Arc<ArcSwap<Routes>>,
    peer: SocketAddr,
}

impl Service<Request> for Connection {
    type Response = Response;
    type Error = Infallible;
    type Future = Either<BoxFuture<'static, Result<Response, Infallible>>, RouteFuture<Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // The routes are always ready.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let routes = self.routes.load();
        if routes.tenants.as_ref().is_some_and(|tenants| tenants.hosts_many()) {
            request.extensions_mut().insert(ConnectInfo(self.peer));
            return Either::Left(dispatch::serve(self.routes.load_full(), request).boxed());
        }
        if let Some(edge) = routes.call_edge(&request) {
            let (state, edge) = (routes.state.clone(), edge.clone());
            return Either::Left(webhook::voice(State(state), edge, request).map(Ok).boxed());
        }
        // The sign-in's lock-out counts attempts by the client's address.
        request.extensions_mut().insert(ConnectInfo(self.peer));
        Either::Right(Router::clone(&routes.router).call(request))
    }
}
