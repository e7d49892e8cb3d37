//! What the store's tests share: a store of each kind, made for one test and removed after.

use ccci_store::{Location, Store};

/// Where the tests make their PostgreSQL databases: `scripts/local-swarm all` starts Debian's
/// PostgreSQL with this role.
const DEFAULT_POSTGRES: &str = "postgres://ccci:ccci@127.0.0.1:5432/postgres";

/// A store for one test, removed when dropped.
pub struct TestStore {
    /// Which kind: `sqlite` or `postgres`.
    pub kind: &'static str,
    /// Where it is.
    pub location: Location,
    _dir: Option<tempfile::TempDir>,
    database: Option<String>,
}

impl TestStore {
    /// Opens it (again: each call is a new connection, as another process would make).
    pub fn open(&self) -> Store {
        Store::open(&self.location).unwrap_or_else(|e| panic!("{}: {e}", self.kind))
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        if let Some(db) = &self.database {
            if let Ok(mut admin) = postgres::Client::connect(&admin_url(), postgres::NoTls) {
                let _ = admin.execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"), &[]);
            }
        }
    }
}

fn admin_url() -> String {
    std::env::var(ccci_core::vars::TEST_POSTGRES).unwrap_or_else(|_| DEFAULT_POSTGRES.into())
}

/// A new SQLite store in a directory of its own.
pub fn sqlite() -> TestStore {
    let dir = tempfile::tempdir().unwrap();
    TestStore {
        kind: "sqlite",
        location: Location::Sqlite(dir.path().join("state/runs.db")),
        _dir: Some(dir),
        database: None,
    }
}

/// A new PostgreSQL database on the test server. Fails loudly, saying how to start the
/// server, when there is none: a test that cannot run is not a pass.
pub fn postgres() -> TestStore {
    let admin = admin_url();
    let mut client = postgres::Client::connect(&admin, postgres::NoTls).unwrap_or_else(|e| {
        panic!(
            "no PostgreSQL for the store's tests at {admin} ({e}): run scripts/local-swarm all, or set {} to a server's admin URL",
            ccci_core::vars::TEST_POSTGRES
        )
    });
    let name = format!(
        "ccci_test_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    client
        .execute(&format!("CREATE DATABASE {name}"), &[])
        .unwrap();
    let (base, _) = admin.rsplit_once('/').unwrap();
    TestStore {
        kind: "postgres",
        location: Location::Postgres(format!("{base}/{name}")),
        _dir: None,
        database: Some(name),
    }
}

/// One store of each kind.
pub fn both() -> [TestStore; 2] {
    [sqlite(), postgres()]
}
