//! `transport`: see ARCHITECTURE.md.
