//! Structured JSON logs on standard error (standard output is kept for command results).
//!
//! What reaches the logs is decided at the source: request logs carry route templates, not
//! paths; configuration is logged redacted; emails show only their domain; secrets are types
//! whose `Debug` prints nothing.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. `default_level` applies unless `RUST_LOG` says otherwise.
pub fn init(default_level: &str) {
    // lopdf reports damaged structure of the PDFs it reads at `warn`; a CV's file is the
    // candidate's, so only its errors are kept.
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("{default_level},sqlx=warn,lopdf=error")));
    // A second initialisation (tests starting several apps) keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
