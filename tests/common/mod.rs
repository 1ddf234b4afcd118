//! Helpers shared by the integration tests. Each test binary uses only some of them.
#![allow(dead_code)]

pub mod api;
pub mod graph_http;
pub mod ntlm_peer;
pub mod process;
pub mod push;
pub mod readiness;
pub mod schema;
pub mod sim;
