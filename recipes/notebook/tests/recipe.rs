//! notebook on a real Swarm: notebook 1.0 on PostgreSQL is installed, upgraded in place to
//! 2.0 (a schema migration), backed up with pg_dump through the backupbot hooks and restored.
//! Data is seeded before each op and checked after it.

use ccci::{Context as _, Http, Key, OpState, Snapshot};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// A note the tests wrote, remembered for a later op.
#[derive(Serialize, Deserialize)]
struct Seeded {
    id: i64,
    body: String,
}

/// The note written by 1.0, looked for after the upgrade.
const PRE_UPGRADE: Key<Seeded> = Key::new("pre_upgrade");
/// The marker note, looked for in the dump and after the restore.
const MARKER: Key<Seeded> = Key::new("marker");

/// Where the db service's pre-hook leaves the dump (backupbot.backup.volumes.db-data.path).
const DUMP: &str = "/var/lib/postgresql/data/backup.sql";

async fn create(http: &Http, content_type: &str, body: String) -> ccci::Result<i64> {
    let page = http.post("/notes", content_type, body).await?;
    ccci::ensure!(
        page.status == 201,
        "POST /notes answered {}: {}",
        page.status,
        page.text()
    );
    page.json()?["id"]
        .as_i64()
        .with_context(|| format!("POST /notes returned no id: {}", page.text()))
}

async fn note(http: &Http, id: i64) -> ccci::Result<Option<Value>> {
    let page = http.get(&format!("/notes/{id}")).await?;
    match page.status {
        200 => Ok(Some(page.json()?)),
        404 => Ok(None),
        s => ccci::bail!("GET /notes/{id} answered {s}: {}", page.text()),
    }
}

async fn version(http: &Http) -> ccci::Result<Value> {
    let page = http.get("/version").await?;
    ccci::ensure!(page.status == 200, "GET /version answered {}", page.status);
    page.json()
}

/// The install tier deployed the previous release: notebook 1.0 on schema 1.
#[ccci::lifecycle(after = install)]
async fn base_release_runs_schema_1(http: &Http) -> ccci::Result {
    let v = version(http).await?;
    ccci::ensure!(
        v == json!({"app": "1.0", "schema": 1}),
        "expected notebook 1.0 on schema 1, got {v}"
    );
    Ok(())
}

/// A note written by 1.0, before the upgrade…
#[ccci::lifecycle(before = upgrade)]
async fn seed_note_on_1_0(http: &Http, state: &OpState) -> ccci::Result {
    let body = ccci::unique("written by notebook 1.0");
    let id = create(http, "text/plain; charset=utf-8", body.clone()).await?;
    state.put(PRE_UPGRADE, &Seeded { id, body })?;
    Ok(())
}

/// …survives the migration to schema 2, with the new columns filled in.
#[ccci::lifecycle(after = upgrade)]
async fn upgrade_migrated_the_schema_and_kept_the_note(
    http: &Http,
    state: &OpState,
) -> ccci::Result {
    let v = version(http).await?;
    ccci::ensure!(
        v == json!({"app": "2.0", "schema": 2}),
        "expected notebook 2.0 on schema 2 after the upgrade, got {v}"
    );
    let seeded = state.read(PRE_UPGRADE)?;
    let id = seeded.id;
    let n = note(http, id)
        .await?
        .with_context(|| format!("note {id} written by 1.0 is gone after the upgrade"))?;
    ccci::ensure!(
        n["body"] == seeded.body.as_str(),
        "note {id} changed in the upgrade: {n}, seeded {:?}",
        seeded.body
    );
    ccci::ensure!(
        n["title"] == "" && n["created_at"].is_string(),
        "the migration did not add title/created_at: {n}"
    );
    Ok(())
}

/// A unique marker note, remembered for after the restore: only data the restore brings
/// back proves it.
#[ccci::lifecycle(before = backup)]
async fn seed_marker(http: &Http, state: &OpState) -> ccci::Result {
    let body = ccci::unique("backup marker");
    let id = create(
        http,
        "application/json",
        json!({"title": "marker", "body": body}).to_string(),
    )
    .await?;
    state.put(MARKER, &Seeded { id, body })?;
    Ok(())
}

/// The snapshot's dump is complete (pg_dump's closing line is there, so it was not cut
/// short) and holds the marker: a backup that "succeeds" with an empty dump is rejected.
#[ccci::backup_verify]
fn dump_is_complete_and_holds_the_marker(snapshot: &Snapshot, state: &OpState) -> ccci::Result {
    let dump = snapshot.read(DUMP)?.context("the snapshot has no dump")?;
    let dump = String::from_utf8_lossy(&dump);
    ccci::ensure!(
        dump.contains("-- PostgreSQL database dump complete"),
        "the dump was cut short: pg_dump's closing line is missing"
    );
    ccci::ensure!(
        dump.contains(&state.read(MARKER)?.body),
        "the dump lacks the marker note written before the backup"
    );
    Ok(())
}

/// Delete the marker, so only the restore can bring it back.
#[ccci::lifecycle(before = restore)]
async fn delete_marker(http: &Http, state: &OpState) -> ccci::Result {
    let id = state.read(MARKER)?.id;
    let page = http.delete(&format!("/notes/{id}")).await?;
    ccci::ensure!(
        page.status == 204,
        "DELETE /notes/{id} answered {}",
        page.status
    );
    ccci::ensure!(
        note(http, id).await?.is_none(),
        "note {id} is still there after DELETE"
    );
    Ok(())
}

/// The restore brought the marker back, byte for byte.
#[ccci::lifecycle(after = restore)]
async fn marker_is_back_byte_for_byte(http: &Http, state: &OpState) -> ccci::Result {
    let marker = state.read(MARKER)?;
    let id = marker.id;
    let n = note(http, id)
        .await?
        .with_context(|| format!("the restore did not bring note {id} back"))?;
    ccci::ensure!(
        n["body"] == marker.body.as_str() && n["title"] == "marker",
        "note {id} came back as {n}, expected the marker {:?}",
        marker.body
    );
    Ok(())
}

/// Notes with titles round-trip through the 2.0 API, and are listed.
#[ccci::functional]
async fn notes_round_trip_with_titles(http: &Http) -> ccci::Result {
    let (title, body) = (
        ccci::unique("Überschrift"),
        "line one\nline two — ünïcödé\n".to_string(),
    );
    let id = create(
        http,
        "application/json",
        json!({"title": title, "body": body}).to_string(),
    )
    .await?;
    let n = note(http, id)
        .await?
        .with_context(|| format!("note {id} not found right after creating it"))?;
    ccci::ensure!(
        n["title"] == title.as_str() && n["body"] == body.as_str(),
        "note {id} came back as {n}"
    );
    let list = http.get("/notes").await?.json()?;
    ccci::ensure!(
        list.as_array()
            .is_some_and(|l| l.iter().any(|x| x["id"] == id)),
        "GET /notes does not list note {id}"
    );
    Ok(())
}

/// A note that does not exist is a 404.
#[ccci::functional]
async fn missing_notes_are_404(http: &Http) -> ccci::Result {
    ccci::ensure!(
        note(http, 987_654_321).await?.is_none(),
        "GET /notes/987654321 found a note"
    );
    Ok(())
}

ccci::main!();
