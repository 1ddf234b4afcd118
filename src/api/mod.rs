//! `api`: the internal JSON HTTP API of `../shared/API.md` (`/v1/...`), and the JSON shapes that
//! the command line prints with `--json`.
//!
//! Invariants:
//! - only this room derives serde for JSON; it maps `delegation` types to DTOs and back;
//! - it never touches XML or EWS types;
//! - **API boundary:** the `/v1` JSON shapes are a promise: fields are added, never renamed or
//!   removed.
//!
//! Entry types: [`dto::AccessBody`], [`problem::Problem`].

pub mod dto;
pub mod problem;
