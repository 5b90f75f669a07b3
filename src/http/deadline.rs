//! A bound on every answer (`request_timeout_seconds`): a request the server cannot serve in
//! time (a stuck store, a flood of password hashing) answers 503 with `Retry-After` instead of
//! holding the client, and its connection, forever. Only the wait for the response head is
//! bounded: WebSocket and SSE streams, once started, live in the body and are not cut.
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse, ResponseError};
use std::time::Duration;

use crate::error::Problem;

/// How long a request may take to be answered; `None` when `request_timeout_seconds` is 0.
#[derive(Debug, Clone, Copy)]
pub struct RequestTimeout(pub Option<Duration>);

/// Seconds a client is told to wait before trying again.
const RETRY_AFTER_SECONDS: u64 = 5;

#[derive(Debug, thiserror::Error)]
#[error("the server could not answer in time; try again shortly")]
struct DeadlinePassed;

impl ResponseError for DeadlinePassed {
    fn status_code(&self) -> StatusCode {
        StatusCode::SERVICE_UNAVAILABLE
    }

    fn error_response(&self) -> HttpResponse {
        let problem = Problem::new(self.status_code(), "Service unavailable", self.to_string());
        HttpResponse::ServiceUnavailable()
            .insert_header((header::RETRY_AFTER, RETRY_AFTER_SECONDS.to_string()))
            .content_type("application/problem+json")
            .body(problem.body())
    }
}

/// Answers with an error rather than a response: a response needs the request, and no copy of
/// it may be kept while actix routes it (routing rewrites a request only one owner holds).
/// `request_id::assign` turns the error into the answer, with its id and log line.
pub async fn bound(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let limit = req
        .app_data::<web::Data<RequestTimeout>>()
        .and_then(|t| t.0);
    let Some(limit) = limit else {
        return next.call(req).await;
    };
    match tokio::time::timeout(limit, next.call(req)).await {
        Ok(answer) => answer,
        Err(_) => {
            // The handler's future is dropped here; work already handed to the blocking pool
            // may still finish (an order placed that late is kept: its idempotency key finds it).
            tracing::warn!(limit_ms = limit.as_millis() as u64, "request timed out");
            Err(DeadlinePassed.into())
        }
    }
}
