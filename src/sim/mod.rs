//! `sim`: see ARCHITECTURE.md.
