//! One application error, turned into RFC 9457 problem+json in one place.
use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::domain::order::Shortage;
use crate::domain::{FieldErrors, ValidationError};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{detail}")]
    Validation { detail: String, errors: FieldErrors },
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("you are not allowed to do that")]
    Forbidden,
    /// A 403 that says why.
    #[error("{0}")]
    Refused(String),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("not enough stock")]
    OutOfStock(Vec<Shortage>),
    #[error("the request body is too large (at most 1 MiB)")]
    PayloadTooLarge,
    #[error("the request body must be application/json")]
    UnsupportedMediaType,
    #[error("{0}")]
    Unprocessable(String),
    #[error("too many attempts; try again later")]
    TooManyRequests { retry_after_seconds: u64 },
    #[error("the service is not available")]
    Unavailable,
    /// The caller holds as many live streams as one user may (429).
    #[error("{0}")]
    TooManyStreams(String),
    /// The server holds as many live streams as it can (503).
    #[error("{0}")]
    StreamsFull(String),
    /// Storage is failing (disk full, I/O error); the cause goes to the log, not the client.
    #[error("the shop cannot save changes right now; try again in a few seconds")]
    StorageFailing(String),
    #[error("internal error")]
    Internal(String),
}

impl AppError {
    pub fn field(field: &str, message: &str) -> AppError {
        AppError::from(ValidationError::new(field, message))
    }

    pub fn fields(errors: FieldErrors) -> AppError {
        AppError::Validation {
            detail: "some fields are invalid".into(),
            errors,
        }
    }

    pub fn internal(cause: impl std::fmt::Display) -> AppError {
        AppError::Internal(cause.to_string())
    }

    fn title(&self) -> &'static str {
        match self {
            AppError::Validation { .. } | AppError::BadRequest(_) => "Bad request",
            AppError::Unauthorized(_) => "Unauthorized",
            AppError::Forbidden | AppError::Refused(_) => "Forbidden",
            AppError::NotFound => "Not found",
            AppError::Conflict(_) | AppError::OutOfStock(_) => "Conflict",
            AppError::PayloadTooLarge => "Payload too large",
            AppError::UnsupportedMediaType => "Unsupported media type",
            AppError::Unprocessable(_) => "Unprocessable content",
            AppError::TooManyRequests { .. } | AppError::TooManyStreams(_) => "Too many requests",
            AppError::Unavailable | AppError::StreamsFull(_) | AppError::StorageFailing(_) => {
                "Service unavailable"
            }
            AppError::Internal(_) => "Internal server error",
        }
    }

    /// The problem document; the user-facing detail never carries internals.
    pub fn problem(&self) -> Problem {
        let mut problem = Problem::new(self.status_code(), self.title(), self.to_string());
        match self {
            AppError::Validation { errors, .. } => problem.errors = Some(errors.clone()),
            AppError::OutOfStock(shortages) => {
                let names: Vec<String> = shortages
                    .iter()
                    .map(|s| format!("{} (only {} left)", s.name, s.available))
                    .collect();
                problem.detail = format!("not enough stock for: {}", names.join(", "));
                problem.products = Some(shortages.clone());
            }
            _ => {}
        }
        problem
    }
}

// Every error the server sends, and the very type the OpenAPI document describes.
/// An RFC 9457 problem document (`application/problem+json`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[schema(example = "about:blank")]
    pub r#type: &'static str,
    #[schema(example = "Bad request")]
    pub title: &'static str,
    #[schema(example = 400, minimum = 400, maximum = 599)]
    pub status: u16,
    #[schema(example = "some fields are invalid")]
    pub detail: String,
    /// On validation failures: the messages for each field.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<std::collections::BTreeMap<String, Vec<String>>>, nullable = false)]
    pub errors: Option<FieldErrors>,
    /// On `409` when placing an order: the products short of stock.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub products: Option<Vec<Shortage>>,
}

impl Problem {
    pub fn new(status: StatusCode, title: &'static str, detail: impl Into<String>) -> Problem {
        Problem {
            r#type: "about:blank",
            title,
            status: status.as_u16(),
            detail: detail.into(),
            errors: None,
            products: None,
        }
    }

    /// The document as sent.
    pub fn body(&self) -> String {
        serde_json::to_string(self).expect("a problem serializes")
    }
}

impl From<ValidationError> for AppError {
    fn from(e: ValidationError) -> Self {
        let detail = format!("{}: {}", e.field, e.message);
        AppError::Validation {
            detail,
            errors: FieldErrors::from([(e.field, vec![e.message])]),
        }
    }
}

impl From<FieldErrors> for AppError {
    fn from(errors: FieldErrors) -> Self {
        AppError::fields(errors)
    }
}

impl From<Vec<ValidationError>> for AppError {
    fn from(list: Vec<ValidationError>) -> Self {
        let mut errors = FieldErrors::new();
        for e in list {
            errors.entry(e.field).or_default().push(e.message);
        }
        AppError::fields(errors)
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        AppError::Internal(e.to_string())
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::Validation { .. } | AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::Refused(_) => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict(_) | AppError::OutOfStock(_) => StatusCode::CONFLICT,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::TooManyRequests { .. } | AppError::TooManyStreams(_) => {
                StatusCode::TOO_MANY_REQUESTS
            }
            AppError::Unavailable | AppError::StreamsFull(_) | AppError::StorageFailing(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            AppError::Internal(cause) => tracing::error!(%cause, "request failed"),
            // The storage watch logs the fault and the recovery once; this is one of many.
            AppError::StorageFailing(cause) => tracing::debug!(%cause, "refused: storage failing"),
            _ => {}
        }
        let mut response = HttpResponse::build(self.status_code());
        response.content_type("application/problem+json");
        match self {
            AppError::TooManyRequests {
                retry_after_seconds,
            } => {
                response
                    .insert_header((header::RETRY_AFTER, retry_after_seconds.max(&1).to_string()));
            }
            AppError::Unauthorized(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            // A stream frees its place when it closes; try again a little later.
            AppError::TooManyStreams(_)
            | AppError::StreamsFull(_)
            | AppError::StorageFailing(_) => {
                response.insert_header((header::RETRY_AFTER, "5"));
            }
            _ => {}
        }
        response.body(self.problem().body())
    }
}
