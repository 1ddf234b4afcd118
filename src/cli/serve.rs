//! `serve`: the [`App`] on `api.listen` until SIGTERM or SIGINT; SIGHUP calls [`App::reload`].

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use crate::app::{self, App};

use super::{fail, load_config, shutdown_signal};

/// Exit 0 after a graceful shutdown; 2 when the rooms cannot be opened, the address cannot be
/// bound, or the audit file cannot be flushed at the end.
pub async fn run(config: &Path) -> ExitCode {
    let config = match load_config(config).await {
        Ok(config) => config,
        Err(exit) => return exit,
    };
    let listen = config.api.listen;
    let app = match App::open(config) {
        Ok(app) => Arc::new(app),
        Err(error) => return fail(&error),
    };
    let listener = match app::listen(listen).await {
        Ok(listener) => listener,
        Err(error) => return fail(&error),
    };
    tracing::info!(listen = %listen, "serving the API");
    let hangup = spawn_hangup_handler(app.clone());
    let result = app.serve(listener, shutdown_signal()).await;
    hangup.abort();
    match result {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(error) => fail(&error),
    }
}

/// Calls [`App::reload`] on each SIGHUP (it logs what it did).
fn spawn_hangup_handler(app: Arc<App>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            let Ok(mut hangups) =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            else {
                return;
            };
            while hangups.recv().await.is_some() {
                app.reload();
            }
        }
        #[cfg(not(unix))]
        drop(app);
    })
}
