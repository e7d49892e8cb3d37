//! What a recipe's functions return: [`Result`] with any [`Error`], built with [`ensure!`],
//! [`bail!`] and [`Context`].

/// What recipe tests return on failure: any error, or a message.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The return type of recipe tests: `ccci::Result` is `Result<(), ccci::Error>`.
pub type Result<T = (), E = Error> = std::result::Result<T, E>;

/// Fails the test with a formatted message unless the condition holds.
///
/// ```
/// fn check(status: u16) -> ccci::Result {
///     ccci::ensure!(status == 200, "expected 200, got {status}");
///     Ok(())
/// }
/// assert_eq!(check(404).unwrap_err().to_string(), "expected 200, got 404");
/// ```
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return ::std::result::Result::Err(::std::format!($($msg)+).into());
        }
    };
}

/// Fails the test with a formatted message.
///
/// ```
/// fn check(rows: usize) -> ccci::Result {
///     if rows == 0 {
///         ccci::bail!("the table is empty");
///     }
///     Ok(())
/// }
/// assert_eq!(check(0).unwrap_err().to_string(), "the table is empty");
/// ```
#[macro_export]
macro_rules! bail {
    ($($msg:tt)+) => {
        return ::std::result::Result::Err(::std::format!($($msg)+).into())
    };
}

/// Says what was being done when an error happened, or turns a missing value into an
/// error: `.context("reading the dump")?`.
///
/// ```
/// use ccci::Context as _;
/// fn port(text: &str) -> ccci::Result<u16> {
///     let p = text.split(':').nth(1).context("no port in the address")?;
///     Ok(p.parse::<u16>().context("the port")?)
/// }
/// assert_eq!(port("host").unwrap_err().to_string(), "no port in the address");
/// assert_eq!(port("host:x").unwrap_err().to_string(), "the port: invalid digit found in string");
/// ```
pub trait Context<T> {
    /// The value, or an error saying `what` (and, for an error, its cause after a colon).
    fn context(self, what: impl std::fmt::Display) -> Result<T>;
    /// Like [`Context::context`], with the message made only when needed.
    fn with_context<D: std::fmt::Display>(self, what: impl FnOnce() -> D) -> Result<T>;
}

impl<T, E: Into<Error>> Context<T> for std::result::Result<T, E> {
    fn context(self, what: impl std::fmt::Display) -> Result<T> {
        self.map_err(|e| ContextError(what.to_string(), e.into()).into())
    }
    fn with_context<D: std::fmt::Display>(self, what: impl FnOnce() -> D) -> Result<T> {
        self.map_err(|e| ContextError(what().to_string(), e.into()).into())
    }
}

impl<T> Context<T> for Option<T> {
    fn context(self, what: impl std::fmt::Display) -> Result<T> {
        self.ok_or_else(|| what.to_string().into())
    }
    fn with_context<D: std::fmt::Display>(self, what: impl FnOnce() -> D) -> Result<T> {
        self.ok_or_else(|| what().to_string().into())
    }
}

/// An error with what was being done when it happened; its cause stays its `source`.
#[derive(Debug)]
struct ContextError(String, Error);

impl std::fmt::Display for ContextError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.0, self.1)
    }
}

impl std::error::Error for ContextError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.1)
    }
}
