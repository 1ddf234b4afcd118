pub mod diff;
pub mod event;
pub mod lock;
pub mod tz;
