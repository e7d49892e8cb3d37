//! Where a run store is: a SQLite file, or a PostgreSQL database.

use crate::error::StoreError;
use std::path::PathBuf;

/// Where a run store is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A SQLite file (made, with its directory, if missing).
    Sqlite(PathBuf),
    /// A PostgreSQL database, by its URL (`postgres://user:password@host:port/database`).
    Postgres(String),
}

impl std::str::FromStr for Location {
    type Err = StoreError;

    /// `postgres://…` or `postgresql://…`; `sqlite:///abs/path`, `sqlite://rel/path` or
    /// `sqlite:path`; any other text is a SQLite file's path.
    fn from_str(s: &str) -> Result<Location, StoreError> {
        let s = s.trim();
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            return Ok(Location::Postgres(s.into()));
        }
        let path = s
            .strip_prefix("sqlite://")
            .or_else(|| s.strip_prefix("sqlite:"))
            .unwrap_or(s);
        if path.is_empty() || s.contains("://") && !s.starts_with("sqlite://") {
            return Err(StoreError::BadLocation(s.into()));
        }
        Ok(Location::Sqlite(path.into()))
    }
}

impl std::fmt::Display for Location {
    /// The location as people may see it: a PostgreSQL password is hidden.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Sqlite(p) => write!(f, "{}", p.display()),
            Location::Postgres(url) => f.write_str(&hide_password(url)),
        }
    }
}

/// `url` with the password of its user part replaced by `***`.
fn hide_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.into();
    };
    let Some((user_part, host_part)) = rest.split_once('@') else {
        return url.into();
    };
    match user_part.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host_part}"),
        None => url.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_read_as_written_and_hide_passwords() {
        let pg: Location = "postgres://ccci:s3cret@127.0.0.1:5432/runs"
            .parse()
            .unwrap();
        assert_eq!(pg.to_string(), "postgres://ccci:***@127.0.0.1:5432/runs");
        let abs: Location = "sqlite:///var/lib/ccci/runs.db".parse().unwrap();
        assert_eq!(abs, Location::Sqlite("/var/lib/ccci/runs.db".into()));
        let bare: Location = "runs.db".parse().unwrap();
        assert_eq!(bare, Location::Sqlite("runs.db".into()));
        assert!("mysql://x@y/z".parse::<Location>().is_err());
        assert!("".parse::<Location>().is_err());
    }
}
