//! Where every request comes in. An incoming call goes straight to its provider's handler; every
//! other request goes through the router and its layers (see `dispatch::Routes`). A busy line's
//! calls are nearly all of the requests saidno gets, and the router would give each one its path
//! parameters, its matched path, the caller's address and a boxed clone of the route, none of
//! which a call reads.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll};

use arc_swap::ArcSwap;
use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::response::Response;
use axum::routing::future::RouteFuture;
use axum::serve::IncomingStream;
use futures_util::future::{BoxFuture, Either, FutureExt};
use tokio::net::TcpListener;
use tower::Service;

use super::dispatch::{self, Routes};
use super::webhook;

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
