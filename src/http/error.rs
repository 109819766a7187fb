//! Errors as the admin API reports them: JSON with a message, the field at fault, and a status.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::service::ServiceError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("a valid admin token is required (Authorization: Bearer ...)")]
    Unauthorized,
    #[error("{message}")]
    Invalid { field: Option<&'static str>, message: String },
    #[error("{0}")]
    NotFound(String),
    #[error("the request body is too large")]
    TooLarge,
    #[error("the database is not available")]
    Store(#[source] StoreError),
    #[error("the server could not finish the request")]
    Internal,
}

#[derive(Serialize)]
struct Body<'a> {
    error: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, field) = match &self {
            Self::Unauthorized => (StatusCode::UNAUTHORIZED, None),
            Self::Invalid { field, .. } => (StatusCode::BAD_REQUEST, *field),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, None),
            Self::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, None),
            Self::Store(error) => {
                tracing::error!(%error, "admin request failed in the store");
                (StatusCode::SERVICE_UNAVAILABLE, None)
            }
            Self::Internal => (StatusCode::INTERNAL_SERVER_ERROR, None),
        };
        let mut response = (status, Json(Body { error: self.to_string(), field })).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::Invalid { field, message } => Self::Invalid { field: Some(field), message },
            ServiceError::NotFound(message) => Self::NotFound(message),
            ServiceError::Store(error) => Self::Store(error),
        }
    }
}
