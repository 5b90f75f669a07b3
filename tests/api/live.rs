//! Tests: live.
