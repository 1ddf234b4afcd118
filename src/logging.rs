//! Log output of the binary: `log.format = "text"` (human) or `"json"` (one JSON object per
//! line, for log shippers), filtered by `log.level` (a level or a tracing filter).
//!
//! Invariants:
//! - every line written while a request is served carries that request's id: the API's
//!   middleware opens a `request` span with `request_id` around the whole handler (and the batch
//!   tasks run inside it), and both formats print the spans of a line (JSON: `span` and
//!   `spans`);
//! - nothing here adds fields: secrets stay out because no room logs them.
//!
//! Entry points: [`init`], [`subscriber`].

use std::io::IsTerminal;

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::LogFormat;

/// The subscriber the binary installs, writing to `writer`; an invalid `level` falls back to
/// `info`. Tests install it with `tracing::subscriber::set_default` and a buffer.
pub fn subscriber<W>(
    format: LogFormat,
    level: &str,
    writer: W,
    ansi: bool,
) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match format {
        LogFormat::Json => Box::new(
            builder
                .json()
                .with_current_span(true)
                .with_span_list(true)
                .finish(),
        ),
        LogFormat::Text => Box::new(builder.with_ansi(ansi).finish()),
    }
}

/// Installs [`subscriber`] on stderr for the whole process (colours only on a terminal); a
/// second call changes nothing.
pub fn init(format: LogFormat, level: &str) {
    let ansi = std::io::stderr().is_terminal();
    // `try_init` also forwards the `log` records of dependencies (rustls) to tracing.
    let _ = subscriber(format, level, std::io::stderr, ansi).try_init();
}
