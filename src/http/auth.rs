//! Bearer-token authentication for the admin API.

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::AppState;
use super::error::ApiError;

/// The admin token, kept only as a digest. Comparing digests means a timing difference can reveal
/// at most a prefix of a hash, which says nothing about the token.
#[derive(Clone)]
pub struct AdminToken([u8; 32]);

impl AdminToken {
    pub fn new(token: &str) -> Self {
        Self(Sha256::digest(token.as_bytes()).into())
    }

    /// A token known only by its SHA-256, as a business's is kept.
    pub fn from_digest(digest: [u8; 32]) -> Self {
        Self(digest)
    }

    /// A token nobody holds: a business that has not been issued one.
    pub fn unusable() -> Self {
        Self::new(&crate::runtime::unguessable_token())
    }

    pub fn matches(&self, presented: &str) -> bool {
        <[u8; 32]>::from(Sha256::digest(presented.as_bytes())) == self.0
    }
}

/// The token a request presents (`Authorization: Bearer ...`), if any.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get(AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

pub async fn require_token(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match bearer(request.headers()) {
        Some(token) if !token.is_empty() && state.admin_token.matches(token) => next.run(request).await,
        _ => ApiError::Unauthorized.into_response(),
    }
}
