//! matrix-synapse on a real Swarm: real Synapse from PyPI on PostgreSQL. Synapse 1.160.0 is
//! installed on an empty database, upgraded in place to 1.163.2 (three schema deltas applied on
//! its first start), backed up by the db service's pg_dump pre-hook and restored by its
//! post-hook. A user registered through the shared-secret admin API, a room and a message sent
//! through the client-server API are the data proof at every step. Federation is off.

use ccci::{Context as _, HookCtx, Http, Key, OpState, Snapshot, Stack};
use hmac::{KeyInit as _, Mac as _};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The user registered on the fresh install (a server admin), with the access token of its
/// first login: every later call uses it, as a client does, so Synapse's login rate limit
/// (a burst of three per address) is never met. The token was made before the backup, so the
/// restore keeps it.
#[derive(Serialize, Deserialize)]
struct User {
    name: String,
    password: String,
    token: String,
}

/// A message the tests sent, remembered for a later op.
#[derive(Serialize, Deserialize)]
struct Message {
    room: String,
    event: String,
    marker: String,
}

const USER: Key<User> = Key::new("user");
/// Sent by Synapse 1.160, read back after the upgrade.
const PRE_UPGRADE: Key<Message> = Key::new("pre_upgrade");
/// Sent before the backup, looked for in the dump and after the restore.
const MARKER: Key<Message> = Key::new("marker");

/// Where the db service's pre-hook leaves the dump (backupbot.backup.volumes.postgres_data.path).
const DUMP: &str = "/var/lib/postgresql/data/backup.sql";
const CLIENT: &str = "/_matrix/client/v3";

/// A path segment with everything but unreserved characters percent-encoded (room ids hold
/// `!` and `:`).
fn segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A JSON request of the Matrix APIs, with the access token when there is one.
async fn call(
    http: &Http,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> ccci::Result<(u16, Value)> {
    let client = http.client();
    let url = http.url(path);
    let mut req = match method {
        "GET" => client.get(url),
        "POST" => client.post(url),
        "PUT" => client.put(url),
        "DELETE" => client.delete(url),
        other => ccci::bail!("the Matrix helper sends GET, POST, PUT or DELETE, not {other}"),
    };
    if let Some(token) = token {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    if let Some(body) = body {
        req = req
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let page = http.request(req).await?;
    Ok((page.status, page.json()?))
}

/// The version Synapse reports of itself.
async fn server_version(http: &Http) -> ccci::Result<String> {
    let (status, v) = call(http, "GET", "/_synapse/admin/v1/server_version", None, None).await?;
    ccci::ensure!(status == 200, "server_version answered {status}: {v}");
    v["server_version"]
        .as_str()
        .map(String::from)
        .with_context(|| format!("server_version has no version: {v}"))
}

/// A password login of `name`: its status and answer.
async fn password_login(http: &Http, name: &str, password: &str) -> ccci::Result<(u16, Value)> {
    call(
        http,
        "POST",
        &format!("{CLIENT}/login"),
        None,
        Some(json!({"type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": name}, "password": password})),
    )
    .await
}

/// Logs `user` in with their password; returns the access token.
async fn log_in(http: &Http, user: &User) -> ccci::Result<String> {
    let (status, v) = password_login(http, &user.name, &user.password).await?;
    ccci::ensure!(
        status == 200,
        "logging in as {} answered {status}: {v}",
        user.name
    );
    v["access_token"]
        .as_str()
        .map(String::from)
        .with_context(|| format!("the login returned no access token: {v}"))
}

/// Creates a room and sends a message holding a unique marker into it.
async fn send_marker(http: &Http, token: &str, tag: &str) -> ccci::Result<Message> {
    let (status, v) = call(
        http,
        "POST",
        &format!("{CLIENT}/createRoom"),
        Some(token),
        Some(json!({"name": format!("ccci {tag}"), "preset": "private_chat"})),
    )
    .await?;
    ccci::ensure!(status == 200, "creating a room answered {status}: {v}");
    let room = v["room_id"]
        .as_str()
        .context("the new room has no id")?
        .to_string();
    let marker = ccci::unique(tag);
    let (status, v) = call(
        http,
        "PUT",
        &format!(
            "{CLIENT}/rooms/{}/send/m.room.message/{}",
            segment(&room),
            segment(&marker)
        ),
        Some(token),
        Some(json!({"msgtype": "m.text", "body": marker})),
    )
    .await?;
    ccci::ensure!(status == 200, "sending a message answered {status}: {v}");
    let event = v["event_id"]
        .as_str()
        .context("the message has no event id")?
        .to_string();
    Ok(Message {
        room,
        event,
        marker,
    })
}

/// The message's body as Synapse serves it now, `None` when the event or its room is gone.
async fn read_back(http: &Http, token: &str, m: &Message) -> ccci::Result<Option<String>> {
    let path = format!(
        "{CLIENT}/rooms/{}/event/{}",
        segment(&m.room),
        segment(&m.event)
    );
    let (status, v) = call(http, "GET", &path, Some(token), None).await?;
    match status {
        200 => Ok(v["content"]["body"].as_str().map(String::from)),
        403 | 404 => Ok(None),
        s => ccci::bail!("GET {path} answered {s}: {v}"),
    }
}

/// Whether the schema delta `file` is recorded as applied in Synapse's database.
async fn delta_applied(stack: &Stack, file: &str) -> ccci::Result<bool> {
    let sql = format!("SELECT COUNT(*) FROM applied_schema_deltas WHERE file LIKE '%{file}%'");
    let out = stack
        .exec_ok(
            "db",
            &[
                "psql",
                "-h",
                "/run/postgresql",
                "-U",
                "synapse",
                "-d",
                "synapse",
                "-tAc",
                &sql,
            ],
        )
        .await?;
    Ok(out.trim() != "0")
}

/// The fresh install runs Synapse 1.160.0; an admin user is registered through the
/// shared-secret admin API (the nonce, then the HMAC-SHA1 of nonce, name, password and role
/// keyed with the secret the recipe generated).
#[ccci::lifecycle(after = install)]
async fn fresh_install_registers_a_user(
    http: &Http,
    stack: &Stack,
    state: &OpState,
) -> ccci::Result {
    let version = server_version(http).await?;
    ccci::ensure!(
        version == "1.160.0",
        "the install reports Synapse {version}, not 1.160.0"
    );
    let secret = stack
        .exec_ok("app", &["cat", "/run/secrets/registration_shared_secret"])
        .await?;
    let (status, v) = call(http, "GET", "/_synapse/admin/v1/register", None, None).await?;
    ccci::ensure!(
        status == 200,
        "the registration nonce answered {status}: {v}"
    );
    let nonce = v["nonce"].as_str().context("no nonce")?.to_string();
    let mut user = User {
        name: "ccci".into(),
        password: ccci::unique("pw"),
        token: String::new(),
    };
    let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(secret.trim().as_bytes())
        .context("an HMAC key")?;
    for part in [nonce.as_str(), &user.name, &user.password] {
        mac.update(part.as_bytes());
        mac.update(b"\0");
    }
    mac.update(b"admin");
    let mac: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let (status, v) = call(
        http,
        "POST",
        "/_synapse/admin/v1/register",
        None,
        Some(json!({"nonce": nonce, "username": user.name, "password": user.password, "admin": true, "mac": mac})),
    )
    .await?;
    ccci::ensure!(
        status == 200,
        "registering through the shared secret answered {status}: {v}"
    );
    user.token = log_in(http, &user).await?;
    state.put(USER, &user)?;
    Ok(())
}

/// A room and a message made on Synapse 1.160, before the upgrade…
#[ccci::lifecycle(before = upgrade)]
async fn message_on_1_160(http: &Http, state: &OpState) -> ccci::Result {
    let token = state.read(USER)?.token;
    let m = send_marker(http, &token, "before the upgrade").await?;
    state.put(PRE_UPGRADE, &m)?;
    Ok(())
}

/// …are served by Synapse 1.163.2 after the upgrade, whose schema deltas are recorded as
/// applied: the app itself reports the new version, not only ccci's label.
#[ccci::lifecycle(after = upgrade)]
async fn upgrade_applied_deltas_and_kept_the_room(
    http: &Http,
    stack: &Stack,
    state: &OpState,
) -> ccci::Result {
    let version = server_version(http).await?;
    ccci::ensure!(
        version == "1.163.2",
        "after the upgrade Synapse reports {version}, not 1.163.2"
    );
    let delta = "94/11_destination_room_sticky_events";
    ccci::ensure!(
        delta_applied(stack, delta).await?,
        "schema delta {delta} of 1.163 is not applied"
    );
    let token = state.read(USER)?.token;
    let m = state.read(PRE_UPGRADE)?;
    let body = read_back(http, &token, &m).await?.with_context(|| {
        format!(
            "message {} in {} is gone after the upgrade",
            m.event, m.room
        )
    })?;
    ccci::ensure!(
        body == m.marker,
        "message {} changed in the upgrade: {body:?}",
        m.event
    );
    Ok(())
}

/// A marker message in a room of its own, remembered for after the restore.
#[ccci::lifecycle(before = backup)]
async fn send_backup_marker(http: &Http, state: &OpState) -> ccci::Result {
    let token = state.read(USER)?.token;
    let m = send_marker(http, &token, "backup marker").await?;
    state.put(MARKER, &m)?;
    Ok(())
}

/// The snapshot's dump is complete (pg_dump's closing line is there) and holds the marker.
#[ccci::backup_verify]
fn dump_is_complete_and_holds_the_marker(snapshot: &Snapshot, state: &OpState) -> ccci::Result {
    let dump = snapshot.read(DUMP)?.context("the snapshot has no dump")?;
    let dump = String::from_utf8_lossy(&dump);
    ccci::ensure!(
        dump.contains("-- PostgreSQL database dump complete"),
        "the dump was cut short: pg_dump's closing line is missing"
    );
    ccci::ensure!(
        dump.contains(&state.read(MARKER)?.marker),
        "the dump lacks the marker message sent before the backup"
    );
    Ok(())
}

/// Delete the marker's room and its events (the admin API's purge), so only the restore can
/// bring the message back.
#[ccci::lifecycle(before = restore)]
async fn purge_marker_room(http: &Http, state: &OpState) -> ccci::Result {
    let token = state.read(USER)?.token;
    let m = state.read(MARKER)?;
    // Synapse's purge fails while its sliding-sync background update (queued by the upgrade's
    // schema deltas) still lists the room: a foreign key on
    // sliding_sync_joined_rooms_to_recalculate. Once that update has passed the room the purge
    // goes through, so a failed purge is asked again, a few times, as an operator would.
    let mut last = Value::Null;
    for _ in 0..5 {
        match purge(http, &token, &m.room).await? {
            Some(failed) => {
                last = failed;
                std::thread::sleep(std::time::Duration::from_secs(2));
            }
            None => {
                ccci::ensure!(
                    read_back(http, &token, &m).await?.is_none(),
                    "the marker message is still served after its room was purged"
                );
                return Ok(());
            }
        }
    }
    ccci::bail!(
        "purging room {} failed five times; the last: {last}",
        m.room
    )
}

/// Deletes and purges `room` through the admin API and waits for it: `None` once complete,
/// the deletion's status when it failed.
async fn purge(http: &Http, token: &str, room: &str) -> ccci::Result<Option<Value>> {
    let (status, v) = call(
        http,
        "DELETE",
        &format!("/_synapse/admin/v2/rooms/{}", segment(room)),
        Some(token),
        Some(json!({"purge": true, "block": false})),
    )
    .await?;
    ccci::ensure!(status == 200, "deleting room {room} answered {status}: {v}");
    let id = v["delete_id"]
        .as_str()
        .context("the room deletion has no id")?
        .to_string();
    for _ in 0..120 {
        let (_, s) = call(
            http,
            "GET",
            &format!("/_synapse/admin/v2/rooms/delete_status/{id}"),
            Some(token),
            None,
        )
        .await?;
        match s["status"].as_str() {
            Some("complete") => return Ok(None),
            Some("failed") => return Ok(Some(s)),
            _ => std::thread::sleep(std::time::Duration::from_millis(250)),
        }
    }
    ccci::bail!("purging room {room} did not complete in 30 s")
}

/// The restore brought the marker message back.
#[ccci::lifecycle(after = restore)]
async fn marker_message_is_back(http: &Http, state: &OpState) -> ccci::Result {
    let token = state.read(USER)?.token;
    let m = state.read(MARKER)?;
    let body = read_back(http, &token, &m)
        .await?
        .with_context(|| format!("the restore did not bring message {} back", m.event))?;
    ccci::ensure!(
        body == m.marker,
        "message {} came back as {body:?}",
        m.event
    );
    Ok(())
}

/// A user logs in, creates a room, sends a message and reads it back in the room's timeline.
#[ccci::functional]
async fn message_round_trips(http: &Http, state: &OpState) -> ccci::Result {
    let token = log_in(http, &state.read(USER)?).await?;
    let m = send_marker(http, &token, "functional").await?;
    let path = format!(
        "{CLIENT}/rooms/{}/messages?dir=b&limit=10",
        segment(&m.room)
    );
    let (status, v) = call(http, "GET", &path, Some(&token), None).await?;
    ccci::ensure!(status == 200, "GET {path} answered {status}: {v}");
    ccci::ensure!(
        v["chunk"]
            .as_array()
            .is_some_and(|c| c.iter().any(|e| e["content"]["body"] == m.marker.as_str())),
        "the room's timeline lacks the message just sent: {v}"
    );
    Ok(())
}

/// Federation is off: the server answers no federation request, and a wrong password is
/// refused.
#[ccci::functional]
async fn federation_off_and_bad_passwords_refused(
    ctx: &HookCtx,
    http: &Http,
    state: &OpState,
) -> ccci::Result {
    let federation = http.get("/_matrix/federation/v1/version").await?;
    ccci::ensure!(
        federation.status == 404,
        "{} answers a federation request with {}, not 404",
        ctx.domain,
        federation.status
    );
    let user = state.read(USER)?;
    let (status, v) = password_login(http, &user.name, "not the password").await?;
    ccci::ensure!(
        status == 403 && v["errcode"] == "M_FORBIDDEN",
        "a wrong password answered {status}: {v}"
    );
    Ok(())
}

ccci::main!();
