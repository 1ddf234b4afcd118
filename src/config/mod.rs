//! `config`: see ARCHITECTURE.md.
