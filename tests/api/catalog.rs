//! Tests: catalog.
