//! mumble on a real Swarm. Its web front is healthy seconds before the voice server listens;
//! the TCP READY_PROBE in ccci.yml makes every tier wait for the voice port too.

use ccci::{Context as _, Http, Key, OpState, Snapshot, Stack};
use std::net::UdpSocket;
use std::time::Duration;

/// The row written before the upgrade, looked for after it.
const KEPT: Key<String> = Key::new("kept");
/// The row written before the backup, looked for in the snapshot and after the restore.
const MARKER: Key<String> = Key::new("marker");

const VOICE: &str = "127.0.0.1:64738";
const DB: &str = "/data/murmur.sqlite";

/// Mumble's UDP ping: 4 zero bytes and an 8-byte ident; the answer is the server version,
/// the ident back, current users, max users and bandwidth. Unlike a TCP connect, Docker's
/// proxy cannot fake an answer.
fn ping() -> ccci::Result<(String, u64, u32, u32, u32)> {
    let sock = UdpSocket::bind("127.0.0.1:0")?;
    sock.set_read_timeout(Some(Duration::from_secs(3)))?;
    let ident: u64 = 0x00cc_c1c1_0000_0001;
    let mut req = [0u8; 12];
    req[4..].copy_from_slice(&ident.to_be_bytes());
    sock.send_to(&req, VOICE)?;
    let mut buf = [0u8; 64];
    let n = sock
        .recv(&mut buf)
        .with_context(|| format!("no answer to a Mumble ping on {VOICE}/udp"))?;
    ccci::ensure!(n == 24, "a Mumble ping answer is 24 bytes, got {n}");
    let u32_at = |i: usize| u32::from_be_bytes([buf[i], buf[i + 1], buf[i + 2], buf[i + 3]]);
    let version = format!("{}.{}.{}", buf[1], buf[2], buf[3]);
    let echoed = u64::from_be_bytes(buf[4..12].try_into()?);
    Ok((version, echoed, u32_at(12), u32_at(16), u32_at(20)))
}

/// Queries murmurd's database as murmurd's user: files root creates there (a journal, the
/// database itself) would leave murmurd unable to write at its next start.
async fn sql(stack: &Stack, query: &str) -> ccci::Result<String> {
    stack
        .exec_ok(
            "murmur",
            &["runuser", "-u", "mumble-server", "--", "sqlite3", DB, query],
        )
        .await
}

/// Right after install, without any retry, the voice server answers the Mumble protocol:
/// the install waited for it.
#[ccci::lifecycle(after = install)]
fn voice_server_answers_right_after_install() -> ccci::Result {
    ping().context("right after install")?;
    Ok(())
}

/// A row in the server's database…
#[ccci::lifecycle(before = upgrade)]
async fn seed_row_before_upgrade(stack: &Stack, state: &OpState) -> ccci::Result {
    let v = ccci::unique("kept");
    sql(stack, &format!("CREATE TABLE IF NOT EXISTS ccci_marker (v TEXT); INSERT INTO ccci_marker VALUES ('{v}');")).await?;
    state.put(KEPT, &v)?;
    Ok(())
}

/// …survives the upgrade, and the upgraded voice server answers at once.
#[ccci::lifecycle(after = upgrade)]
async fn row_survives_and_voice_is_ready_after_upgrade(
    stack: &Stack,
    state: &OpState,
) -> ccci::Result {
    let v = state.read(KEPT)?;
    let rows = sql(stack, "SELECT v FROM ccci_marker;").await?;
    ccci::ensure!(
        rows.lines().any(|l| l == v),
        "row {v} is gone after the upgrade: {rows:?}"
    );
    ping().context("right after the upgrade")?;
    Ok(())
}

#[ccci::lifecycle(before = backup)]
async fn seed_marker(stack: &Stack, state: &OpState) -> ccci::Result {
    let v = ccci::unique("backup");
    sql(stack, &format!("INSERT INTO ccci_marker VALUES ('{v}');")).await?;
    state.put(MARKER, &v)?;
    Ok(())
}

/// The snapshot is an SQLite database that holds the marker.
#[ccci::backup_verify]
fn snapshot_is_a_database_with_the_marker(snapshot: &Snapshot, state: &OpState) -> ccci::Result {
    let v = state.read(MARKER)?;
    let db = snapshot
        .read("/data/backup.sqlite")?
        .context("the snapshot has no /data/backup.sqlite")?;
    ccci::ensure!(
        db.starts_with(b"SQLite format 3\0"),
        "/data/backup.sqlite in the snapshot is not an SQLite database"
    );
    ccci::ensure!(
        db.windows(v.len()).any(|w| w == v.as_bytes()),
        "the snapshot's database lacks the marker row {v}"
    );
    Ok(())
}

#[ccci::lifecycle(before = restore)]
async fn delete_marker(stack: &Stack, state: &OpState) -> ccci::Result {
    let v = state.read(MARKER)?;
    sql(stack, &format!("DELETE FROM ccci_marker WHERE v = '{v}';")).await?;
    ccci::ensure!(
        !sql(stack, "SELECT v FROM ccci_marker;").await?.contains(&v),
        "the marker is still there"
    );
    Ok(())
}

#[ccci::lifecycle(after = restore)]
async fn marker_is_back(stack: &Stack, state: &OpState) -> ccci::Result {
    let v = state.read(MARKER)?;
    let rows = sql(stack, "SELECT v FROM ccci_marker;").await?;
    ccci::ensure!(
        rows.lines().any(|l| l == v),
        "the restore did not bring {v} back: {rows:?}"
    );
    Ok(())
}

/// The voice server speaks Mumble: its UDP ping answers with its version and limits.
#[ccci::functional]
fn answers_a_mumble_ping() -> ccci::Result {
    let (version, echoed, users, max, bandwidth) = ping()?;
    ccci::ensure!(
        echoed == 0x00cc_c1c1_0000_0001,
        "the ping ident came back as {echoed:x}"
    );
    ccci::ensure!(
        version.starts_with("1.3."),
        "expected a 1.3 server, got {version}"
    );
    ccci::ensure!(
        (users, max, bandwidth) == (0, 100, 72000),
        "users/max/bandwidth {users}/{max}/{bandwidth}, expected 0/100/72000 (murmur.ini)"
    );
    Ok(())
}

/// The web front tells people where to connect.
#[ccci::functional]
async fn web_front_names_the_voice_port(http: &Http) -> ccci::Result {
    let page = http.get("/").await?;
    ccci::ensure!(
        page.status == 200 && page.text().contains("port 64738"),
        "GET / answered {}: {}",
        page.status,
        page.text()
    );
    Ok(())
}

ccci::main!();
