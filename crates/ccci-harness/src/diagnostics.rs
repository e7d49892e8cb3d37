//! ccci's own diagnostics: the `tracing` events of its parts (every subprocess it ran and how
//! long it took, a Docker event stream that dropped, a backup retried), on stderr. They are
//! not what a run tells its user, which stays plain lines on stdout. `warn` and above by
//! default; `RUST_LOG` turns them up (`RUST_LOG=debug`, or per part:
//! `RUST_LOG=warn,ccci_process=debug`).

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// Starts the diagnostics for this process (a recipe's test binary, `cargo ccci`); once: a
/// second call, or a process that has a subscriber already, changes nothing. A `RUST_LOG`
/// that is not a list of `[target=]level` directives is said once, and `warn` kept.
pub fn init() {
    let default = Targets::new().with_default(LevelFilter::WARN);
    let targets = match std::env::var("RUST_LOG") {
        Ok(v) if !v.trim().is_empty() => v.parse::<Targets>().unwrap_or_else(|e| {
            eprintln!("ccci: RUST_LOG={v} is not a list of [target=]level directives ({e}); diagnostics stay at warn");
            default
        }),
        _ => default,
    };
    // The builder's own filter (info by default) lets everything by: `targets` decides.
    let _ = tracing_subscriber::fmt()
        .with_max_level(LevelFilter::TRACE)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(true)
        .finish()
        .with(targets)
        .try_init();
}

#[cfg(test)]
mod tests {
    use tracing_subscriber::filter::{LevelFilter, Targets};

    /// What `RUST_LOG` may say: a level, or levels per part; what it may not is refused.
    #[test]
    fn rust_log_directives_are_read_as_targets() {
        let t: Targets = "debug".parse().unwrap();
        assert!(t.would_enable("ccci_process", &tracing::Level::DEBUG));
        let t: Targets = "warn,ccci_process=debug".parse().unwrap();
        assert!(t.would_enable("ccci_process", &tracing::Level::DEBUG));
        assert!(!t.would_enable("ccci_swarm::pace", &tracing::Level::INFO));
        assert_eq!(
            Targets::new()
                .with_default(LevelFilter::WARN)
                .default_level(),
            Some(LevelFilter::WARN)
        );
        assert!("ccci=loud".parse::<Targets>().is_err());
    }
}
