//! notebook on a real Swarm: notebook 1.0 on PostgreSQL is installed, upgraded in place to
//! 2.0 (a schema migration), backed up with pg_dump through the backupbot hooks and restored.
//! Data is seeded before each op and checked after it.

use ccci::{Http, OpState, Snapshot};
use serde_json::{json, Value};

/// Where the db service's pre-hook leaves the dump (backupbot.backup.volumes.db-data.path).
const DUMP: &str = "/var/lib/postgresql/data/backup.sql";

fn json_of(page: &ccci::Page) -> ccci::Result<Value> {
    serde_json::from_slice(&page.body)
        .map_err(|e| format!("not JSON ({e}): {}", page.text()).into())
}

async fn create(http: &Http, content_type: &str, body: String) -> ccci::Result<i64> {
    let page = http.post("/notes", content_type, body).await?;
    ccci::ensure!(
        page.status == 201,
        "POST /notes answered {}: {}",
        page.status,
        page.text()
    );
    json_of(&page)?["id"]
        .as_i64()
        .ok_or_else(|| format!("POST /notes returned no id: {}", page.text()).into())
}

async fn note(http: &Http, id: i64) -> ccci::Result<Option<Value>> {
    let page = http.get(&format!("/notes/{id}")).await?;
    match page.status {
        200 => Ok(Some(json_of(&page)?)),
        404 => Ok(None),
        s => Err(format!("GET /notes/{id} answered {s}: {}", page.text()).into()),
    }
}

async fn version(http: &Http) -> ccci::Result<Value> {
    let page = http.get("/version").await?;
    ccci::ensure!(page.status == 200, "GET /version answered {}", page.status);
    json_of(&page)
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
    state.set("pre_upgrade", &json!({"id": id, "body": body}))?;
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
    let seeded: Value = state
        .get("pre_upgrade")?
        .ok_or("seed_note_on_1_0 stored nothing")?;
    let id = seeded["id"].as_i64().ok_or("no id stored")?;
    let n = note(http, id)
        .await?
        .ok_or_else(|| format!("note {id} written by 1.0 is gone after the upgrade"))?;
    ccci::ensure!(
        n["body"] == seeded["body"],
        "note {id} changed in the upgrade: {n}, seeded {seeded}"
    );
    ccci::ensure!(
        n["title"] == "" && n["created_at"].is_string(),
        "the migration did not add title/created_at: {n}"
    );
    Ok(())
}

/// A unique marker note, remembered for after the restore (R19).
#[ccci::lifecycle(before = backup)]
async fn seed_marker(http: &Http, state: &OpState) -> ccci::Result {
    let body = ccci::unique("backup marker");
    let id = create(
        http,
        "application/json",
        json!({"title": "marker", "body": body}).to_string(),
    )
    .await?;
    state.set("marker", &json!({"id": id, "body": body}))?;
    Ok(())
}

/// BACKUP_VERIFY (R18): the snapshot's dump is complete (pg_dump's closing line is there, so
/// it was not cut short) and holds the marker.
#[ccci::backup_verify]
fn dump_is_complete_and_holds_the_marker(
    snapshot: &Snapshot,
    state: &OpState,
) -> ccci::Result<bool> {
    let marker: Value = state.get("marker")?.ok_or("seed_marker stored nothing")?;
    let Some(dump) = snapshot.read(DUMP)? else {
        return Ok(false);
    };
    let dump = String::from_utf8_lossy(&dump);
    let body = marker["body"].as_str().unwrap_or_default();
    Ok(dump.contains("-- PostgreSQL database dump complete") && dump.contains(body))
}

/// Delete the marker, so only the restore can bring it back.
#[ccci::lifecycle(before = restore)]
async fn delete_marker(http: &Http, state: &OpState) -> ccci::Result {
    let marker: Value = state.get("marker")?.ok_or("seed_marker stored nothing")?;
    let id = marker["id"].as_i64().ok_or("no id stored")?;
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
    let marker: Value = state.get("marker")?.ok_or("seed_marker stored nothing")?;
    let id = marker["id"].as_i64().ok_or("no id stored")?;
    let n = note(http, id)
        .await?
        .ok_or_else(|| format!("the restore did not bring note {id} back"))?;
    ccci::ensure!(
        n["body"] == marker["body"] && n["title"] == "marker",
        "note {id} came back as {n}, expected {marker}"
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
        .ok_or_else(|| format!("note {id} not found right after creating it"))?;
    ccci::ensure!(
        n["title"] == title.as_str() && n["body"] == body.as_str(),
        "note {id} came back as {n}"
    );
    let list = json_of(&http.get("/notes").await?)?;
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
