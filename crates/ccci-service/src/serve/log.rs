//! The service's log: one line per event an operator follows (a delivery taken or refused and
//! why, a job queued, a run started and ended with its verdict and page, each forge call and
//! its outcome, a retry, the recovery after a restart, the shutdown), through `tracing`, on
//! stderr. Plain lines by default, one JSON object a line on request (`--log-format json`);
//! `RUST_LOG` (its directives) or `-v` / `-vv` turn it up to debug or trace.

use tracing_subscriber::EnvFilter;

/// How the log's lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// `2026-12-07T08:00:00.000Z  INFO job queued job=… repo=… pr=…`.
    Plain,
    /// One JSON object a line: `timestamp`, `level`, `fields` (the message among them).
    Json,
}

/// Starts the log: `RUST_LOG` when it is set, else `info`, or `debug`/`trace` for `verbose`
/// 1/2 or more. Once per process; a second call changes nothing.
pub fn init(format: Format, verbose: u8) {
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.trim().is_empty() => EnvFilter::new(directives),
        _ => EnvFilter::new(match verbose {
            0 => "info",
            1 => "debug",
            _ => "trace",
        }),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(false);
    let _ = match format {
        Format::Plain => builder.try_init(),
        Format::Json => builder.json().try_init(),
    };
}
