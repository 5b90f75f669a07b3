//! Live order updates over WebSocket (actix-ws) and Server-Sent Events, both fed by `LiveFeed`.
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use std::time::Instant;
use tokio::sync::mpsc;

use crate::auth::CurrentUser;
use crate::domain::event::OrderEvent;
use crate::domain::ids::EventId;
use crate::error::AppError;
use crate::http::extract::{query_pairs, query_value};
use crate::http::live_settings::LiveSettings;
use crate::services::json::EventJson;
use crate::services::live_feed::{FeedEnd, FeedItem, LiveFeed};
use crate::services::Services;

/// Token from `?token=`, else the header or cookie; checked before any upgrade, after the
/// sender: a browser opens a WebSocket from any site's page with this site's cookie.
fn live_token(req: &HttpRequest) -> Result<String, AppError> {
    if let Some(reason) = crate::http::origin::foreign_sender(req) {
        tracing::warn!(path = %req.path(), reason, "refused a live stream opened from another site");
        return Err(AppError::Refused(format!(
            "live streams open only from this site's pages ({reason}); \
             list other origins in allowed_origins"
        )));
    }
    let pairs = query_pairs(req)?;
    match query_value(&pairs, "token")? {
        Some(token) => Ok(token.to_owned()),
        None => crate::http::user_extract::bearer_token(req).ok_or_else(|| {
            AppError::Unauthorized("authentication credentials were not provided".into())
        }),
    }
}

/// The user's feed, open until the token expires or is revoked.
async fn live_feed(req: &HttpRequest, services: &Services) -> Result<LiveFeed, AppError> {
    let token = live_token(req)?;
    let user: CurrentUser = services.accounts.authenticate(&token).await?;
    let resume = resume_point(req)?;
    let feed = services.notifications.feed(&user, resume).await?;
    // Checked again now that the connection is registered: a logout or password change
    // published between the first check and the registration would otherwise miss it.
    services.accounts.authenticate(&token).await?;
    Ok(feed)
}

/// `Last-Event-ID` header first, then `?last_event_id=`.
fn resume_point(req: &HttpRequest) -> Result<Option<EventId>, AppError> {
    let pairs = query_pairs(req)?;
    let raw = match req.headers().get("Last-Event-ID") {
        Some(value) => Some(
            value
                .to_str()
                .map_err(|_| AppError::field("Last-Event-ID", "must be a number"))?
                .to_owned(),
        ),
        None => query_value(&pairs, "last_event_id")?.map(str::to_owned),
    };
    match raw.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some("0") => Ok(Some(EventId::new(0))),
        Some(text) => text
            .parse()
            .map(Some)
            .map_err(|_| AppError::field("last_event_id", "must be a non-negative integer")),
    }
}

fn event_json(event: &OrderEvent) -> String {
    serde_json::to_string(&EventJson::from(event)).expect("event serializes")
}

/// Sent first when the resume point is ahead of the log: a client that does not reload
/// would otherwise wait forever for ids that will never come.
fn reset_json(newest: EventId) -> String {
    serde_json::json!({
        "id": newest.get(),
        "type": "reset",
        "detail": "the resume point is ahead of the event log: reload what you show; \
                   live events follow from this id",
    })
    .to_string()
}

/// Close code for credentials that stopped being good: reconnect with a fresh token.
const CREDENTIALS_CLOSE: u16 = 4001;

fn close_reason(end: FeedEnd) -> actix_ws::CloseReason {
    let (code, text) = match end {
        FeedEnd::TooSlow => (
            actix_ws::CloseCode::Again,
            "too slow; resume with last_event_id",
        ),
        FeedEnd::Expired => (
            actix_ws::CloseCode::Other(CREDENTIALS_CLOSE),
            "access token expired; reconnect with a fresh one",
        ),
        FeedEnd::Revoked => (
            actix_ws::CloseCode::Other(CREDENTIALS_CLOSE),
            "credentials revoked (signed out or password changed); sign in again",
        ),
    };
    actix_ws::CloseReason {
        code,
        description: Some(text.into()),
    }
}

/// The last SSE frame of a stream whose credentials stopped being good.
fn auth_expired_frame(end: FeedEnd) -> String {
    let reason = if end == FeedEnd::Expired {
        "expired"
    } else {
        "revoked"
    };
    let data = serde_json::json!({"type": "auth-expired", "reason": reason});
    format!("event: auth-expired\ndata: {data}\n\n")
}

pub async fn websocket(
    req: HttpRequest,
    body: web::Payload,
    services: web::Data<Services>,
    live: web::Data<LiveSettings>,
) -> Result<HttpResponse, AppError> {
    let mut feed = live_feed(&req, &services).await?;
    let (response, mut session, mut incoming) = actix_ws::handle(&req, body)
        .map_err(|e| AppError::BadRequest(format!("not a WebSocket upgrade: {e}")))?;
    let timeout = live.ws_timeout;
    let mut shutdown = live.shutdown.clone();
    let mut heartbeat = live.heartbeat.subscribe();
    actix_web::rt::spawn(async move {
        let mut last_heard = Instant::now();
        let reason = loop {
            tokio::select! {
                next = feed.next() => match next {
                    Ok(FeedItem::Event(event)) => {
                        if session.text(event_json(&event)).await.is_err() { break None; }
                    }
                    Ok(FeedItem::Reset(newest)) => {
                        if session.text(reset_json(newest)).await.is_err() { break None; }
                    }
                    Ok(FeedItem::End(end)) => break Some(close_reason(end)),
                    Err(_) => break Some(actix_ws::CloseCode::Error.into()),
                },
                message = incoming.next() => match message {
                    Some(Ok(actix_ws::Message::Ping(bytes))) => {
                        last_heard = Instant::now();
                        if session.pong(&bytes).await.is_err() { break None; }
                    }
                    Some(Ok(actix_ws::Message::Close(reason))) => break reason,
                    Some(Ok(_)) => last_heard = Instant::now(),
                    Some(Err(_)) | None => break None,
                },
                // The server is stopping: 1012 tells the client to come back and resume.
                _ = shutdown.wait_for(|stopping| *stopping) => break Some(actix_ws::CloseCode::Restart.into()),
                beat = heartbeat.changed() => {
                    // No more beats: the server is going away.
                    if beat.is_err() {
                        break Some(actix_ws::CloseCode::Restart.into());
                    }
                    if last_heard.elapsed() > timeout {
                        break Some(actix_ws::CloseCode::Away.into());
                    }
                    if session.ping(b"").await.is_err() { break None; }
                }
            }
        };
        let _ = session.close(reason).await;
    });
    Ok(response)
}

pub async fn sse(
    req: HttpRequest,
    services: web::Data<Services>,
    live: web::Data<LiveSettings>,
) -> Result<HttpResponse, AppError> {
    let mut feed = live_feed(&req, &services).await?;
    let (tx, rx) = mpsc::channel::<web::Bytes>(16);
    let keepalive = live.sse_keepalive;
    let mut shutdown = live.shutdown.clone();
    actix_web::rt::spawn(async move {
        if tx
            .send(web::Bytes::from_static(b"retry: 2000\n: connected\n\n"))
            .await
            .is_err()
        {
            return;
        }
        let mut beat = tokio::time::interval_at(tokio::time::Instant::now() + keepalive, keepalive);
        loop {
            let frame = tokio::select! {
                next = feed.next() => match next {
                    Ok(FeedItem::Event(event)) => format!("id: {}\nevent: {}\ndata: {}\n\n", event.id, event.kind.as_str(), event_json(&event)),
                    // The id line moves EventSource's Last-Event-ID back into the log.
                    Ok(FeedItem::Reset(newest)) => format!("id: {newest}\nevent: reset\ndata: {}\n\n", reset_json(newest)),
                    Ok(FeedItem::End(end @ (FeedEnd::Expired | FeedEnd::Revoked))) => {
                        let _ = tx.send(web::Bytes::from(auth_expired_frame(end))).await;
                        break;
                    }
                    _ => break,
                },
                _ = beat.tick() => ": keep-alive\n\n".to_owned(),
                // The server is stopping: end the stream; EventSource reconnects with Last-Event-ID.
                _ = shutdown.wait_for(|stopping| *stopping) => break,
                // The client went away: the body was dropped.
                _ = tx.closed() => break,
            };
            if tx.send(web::Bytes::from(frame)).await.is_err() {
                break;
            }
        }
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, actix_web::Error>(b), rx))
    });
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/event-stream"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(body))
}
