//! `ews`: see ARCHITECTURE.md.
