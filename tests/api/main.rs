//! One integration test binary: the real server, real HTTP/WebSocket/SSE clients.
mod binary;
mod helpers;
mod postgres_cluster;
mod python_venv;

mod auth;
mod backups;
mod browser;
mod cart_orders;
mod catalog;
mod instances;
mod live;
mod mail;
mod ops;
#[cfg(feature = "redis")]
mod redis;
mod webhooks;
