//! The ccci service as a library: the run store's commands (history, import, compare, the
//! dashboard, the fleet's records), posting a report from a CI engine, and the forge's CI
//! (`serve`). `ccci-service`'s `main.rs` only parses its command line and calls these; its
//! rules are here, where they are unit-tested without starting the service.
//!
//! | module | what |
//! |---|---|
//! | [`commands`] | the run store's commands, and starting `serve` |
//! | [`fleet`] | the warm fleet's side of the store: known-good, canonicals, sweeps |
//! | [`forge`] | `cargo ccci forge`: a small real forge to try the service against |
//! | [`post`] | `report --post`: a run's status and report to its pull request |
//! | [`serve`] | the forge's CI |
//! | [`tell`] | what a pull request is told of a run: its status and report |

/// `println!` that a closed stdout (`| head`) does not turn into a panic.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::print_out(&format!($($arg)*))
    };
}

pub mod commands;
pub mod fleet;
pub mod forge;
pub mod post;
pub mod serve;
pub mod tell;

/// Prints `text` and a newline to stdout; a reader that stopped reading is not an error.
pub fn print_out(text: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}").and_then(|_| out.flush());
}
