//! Errors as the admin API reports them: JSON with a message, the field at fault, and a status.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::service::{RowProblem, ServiceError};
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("a valid admin token is required (Authorization: Bearer ...)")]
    Unauthorized,
    #[error("a valid operator token is required (Authorization: Bearer ...)")]
    OperatorUnauthorized,
    #[error("{message}")]
    Invalid { field: Option<&'static str>, message: String },
    #[error("{} row(s) are not valid; nothing was imported", .0.len())]
    Rejected(Vec<RowProblem>),
    #[error("{0}")]
    NotFound(String),
    #[error("the request body is too large")]
    TooLarge,
    #[error("{}", store_failure(.0))]
    Store(#[source] StoreError),
    #[error("the server could not finish the request")]
    Internal,
}

fn store_failure(error: &StoreError) -> &'static str {
    error.unreachable_refusal().unwrap_or("the database is not available")
}

/// Every error the API returns.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: String,
    /// The input at fault, when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For an import: each bad row, with its line number.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rows: Vec<RowProblem>,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized | Self::OperatorUnauthorized => StatusCode::UNAUTHORIZED,
            Self::Invalid { .. } | Self::Rejected(_) => StatusCode::BAD_REQUEST,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let Self::Store(error) = &self {
            tracing::error!(%error, "admin request failed in the store");
        }
        let field = match &self {
            Self::Invalid { field, .. } => field.map(str::to_owned),
            Self::Rejected(_) => Some("file".to_owned()),
            _ => None,
        };
        let error = self.to_string();
        let rows = match self {
            Self::Rejected(rows) => rows,
            _ => Vec::new(),
        };
        let mut response = (status, Json(ErrorBody { error, field, rows })).into_response();
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
            ServiceError::Rejected(rows) => Self::Rejected(rows),
            ServiceError::NotFound(message) => Self::NotFound(message),
            ServiceError::Store(error) => Self::Store(error),
        }
    }
}
