//! See tests/common/mod.rs.
