//! OrderStream: accounts, catalog, cart, orders and live order status in one binary.
pub mod actors;
pub mod auth;
pub mod cache;
pub mod config;
pub mod demo;
pub mod domain;
pub mod error;
pub mod http;
pub mod services;
pub mod startup;
pub mod store;
pub mod telemetry;
