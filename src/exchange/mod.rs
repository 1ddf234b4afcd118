//! `exchange`: see ARCHITECTURE.md.
