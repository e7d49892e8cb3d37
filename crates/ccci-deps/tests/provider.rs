//! The warm OIDC provider on the real local Swarm (scripts/local-swarm), each test with a
//! provider of its own domain so that it may break it: a realm per run that really issues
//! tokens through Traefik, keeps its user and client to itself, and is gone after; an upgrade to a broken release that rolls back
//! with a live run's realm intact; a healthy upgrade that keeps it.

use ccci_deps::{Place, Provider, RealmSpec, Upgrade};
use ccci_swarm::{Deadline, Swarm};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn dl() -> Deadline {
    Deadline::after(Duration::from_secs(300))
}

fn images_build() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../images/build")
}

/// A provider of its own for `tag`, its state in `dir`.
async fn provider(tag: &str, dir: &Path) -> Provider {
    let swarm = Swarm::connect()
        .await
        .expect("these tests need the local Swarm: run scripts/local-swarm");
    let place = Place {
        domain: format!("t{tag}{}-oidc.ccci.test", std::process::id()),
        dir: dir.to_path_buf(),
        image_builder: Some(images_build()),
        ipvs: false,
    };
    Provider::open(&swarm, place).await.unwrap()
}

/// Removes a test's provider when the test panics before it could.
struct Cleanup(String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        // Not the testkit's docker(), which panics: a panic while panicking aborts.
        let docker = |args: &[&str]| {
            let _ = std::process::Command::new("docker").args(args).output();
        };
        if std::thread::panicking() {
            let stack = &self.0;
            docker(&["stack", "rm", stack]);
            std::thread::sleep(Duration::from_secs(10));
            docker(&["volume", "rm", &format!("{stack}_data")]);
            docker(&["secret", "rm", &format!("{stack}_admin_password_v1")]);
        }
    }
}

/// Removes the provider and checks that nothing of it is left.
async fn remove(p: &Provider) {
    let left = p.remove(dl()).await.unwrap();
    assert!(left.is_empty(), "the provider left {left:?}");
}

/// A token for the realm's user by the password grant, as a test would ask for one.
async fn token(p: &Provider, realm: &ccci_deps::Realm) -> Result<Value, String> {
    token_as(p, realm, realm, realm).await
}

/// A token at realm `at`'s issuer, for the client of `client` and the user of `user` (each a
/// realm's), by the password grant.
async fn token_as(
    p: &Provider,
    at: &ccci_deps::Realm,
    client: &ccci_deps::Realm,
    user: &ccci_deps::Realm,
) -> Result<Value, String> {
    let http = p
        .realm_via(&at.name)
        .unwrap()
        .client_builder()
        .unwrap()
        .build()
        .unwrap();
    let r = http
        .post(format!("{}/token", at.issuer))
        .basic_auth(&client.client_id, Some(&client.client_secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=password&scope=openid&username={}&password={}",
            user.username, user.password
        ))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = r.status().as_u16();
    let body = r.text().await.map_err(|e| e.to_string())?;
    match status {
        200 => serde_json::from_str(&body).map_err(|e| e.to_string()),
        s => Err(format!("the token endpoint answered {s}: {body}")),
    }
}

/// The claims of a JWT (not verified: the apps under test verify; this reads what it says).
fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    let bytes = base64url(payload);
    serde_json::from_slice(&bytes).unwrap()
}

fn base64url(s: &str) -> Vec<u8> {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let (mut out, mut acc, mut bits) = (Vec::new(), 0u32, 0u32);
    for c in s.bytes().filter(|c| *c != b'=') {
        acc = (acc << 6) | T.iter().position(|t| *t == c).unwrap() as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

async fn make_realm(p: &Provider, run: &str) -> ccci_deps::Realm {
    let keys = p.new_keys(dl()).await.unwrap();
    let spec = RealmSpec {
        name: ccci_deps::realm_name(run),
        redirect_uris: vec!["https://app.ccci.test/cb".into()],
    };
    p.make_realm(&spec, &keys, dl()).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_realm_issues_its_own_tokens_through_traefik_and_is_gone_after() {
    let dir = tempfile::tempdir().unwrap();
    let p = provider("realm", dir.path()).await;
    let _cleanup = Cleanup(p.stack().to_string());
    let v = p.ensure(dl()).await.unwrap();
    assert_eq!(v.to_string(), "1.0.0+2.7.5");
    let (a, b) = (make_realm(&p, "run-a").await, make_realm(&p, "run-b").await);
    assert_eq!(
        a.issuer,
        format!("{}/api/ccci-run-a", p.realm_url("ccci-run-a"))
    );
    assert_ne!(a.domain, b.domain, "each realm is a glewlwyd of its own");
    let discovery: Value = p
        .realm_via(&a.name)
        .unwrap()
        .client_builder()
        .unwrap()
        .build()
        .unwrap()
        .get(&a.discovery_url)
        .send()
        .await
        .unwrap()
        .json_text()
        .await;
    assert_eq!(discovery["issuer"], a.issuer.as_str(), "{discovery}");
    let tok = token(&p, &a).await.unwrap();
    let id = claims(tok["id_token"].as_str().unwrap());
    assert_eq!(id["iss"], a.issuer.as_str());
    assert_eq!(id["aud"], a.client_id.as_str());
    assert_eq!(id["name"], a.username.as_str(), "{id}");
    // Realm b's client is not realm a's, and neither a's user nor a's client signs in
    // through b (glewlwyd's users and clients are global to an instance: a shared one let
    // them, measured with glewlwyd 2.7.5 before realms got one each).
    assert_ne!(a.client_secret, b.client_secret);
    token_as(&p, &b, &b, &b)
        .await
        .expect("b's own user signs in at b");
    let user_of_a = token_as(&p, &b, &b, &a).await.unwrap_err();
    assert!(
        user_of_a.contains("answered 40"),
        "a's user at b: {user_of_a}"
    );
    let client_of_a = token_as(&p, &b, &a, &a).await.unwrap_err();
    assert!(
        client_of_a.contains("answered 40"),
        "a's client at b: {client_of_a}"
    );
    assert_eq!(p.realm_names().await.unwrap(), ["ccci-run-a", "ccci-run-b"]);
    // A second ensure finds it healthy and leaves it be.
    assert_eq!(p.ensure(dl()).await.unwrap(), v);
    // Removing twice is no error: a teardown after a janitor, or the other way round.
    for r in [&a, &b] {
        p.remove_realm(&r.name, dl()).await.unwrap();
        p.remove_realm(&r.name, dl()).await.unwrap();
    }
    assert!(p.realm_names().await.unwrap().is_empty());
    let gone = p
        .realm_answers(&a.name, Deadline::after(Duration::from_secs(3)))
        .await;
    assert!(gone.is_err(), "realm a still answers after its removal");
    assert!(token(&p, &a).await.is_err());
    remove(&p).await;
}

/// Writes a provider release `version` into `dir` that runs `image`, else as the built-in
/// release does.
fn release(dir: &Path, version: &str, image: &str) {
    let builtin = Path::new(env!("CARGO_MANIFEST_DIR")).join("provider/glewlwyd/1.0.0+2.7.5");
    let out = dir.join(version);
    std::fs::create_dir_all(&out).unwrap();
    let compose = std::fs::read_to_string(builtin.join("compose.yml"))
        .unwrap()
        .replace("version=1.0.0+2.7.5", &format!("version={version}"))
        .replace(
            "image: local/glewlwyd:2.7.5\n    environment",
            &format!("image: {image}\n    environment"),
        );
    std::fs::write(out.join("compose.yml"), compose).unwrap();
    std::fs::copy(builtin.join(".env.sample"), out.join(".env.sample")).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgrade_to_a_broken_provider_rolls_back_with_a_live_runs_realm_intact() {
    let dir = tempfile::tempdir().unwrap();
    let p = provider("upgr", dir.path()).await;
    let _cleanup = Cleanup(p.stack().to_string());
    p.ensure(dl()).await.unwrap();
    let live = make_realm(&p, "live-run").await;
    token(&p, &live).await.unwrap();
    // A provider image that cannot start.
    let broken = "local/glewlwyd:ccci-test-broken";
    let ctx = tempfile::tempdir().unwrap();
    std::fs::write(
        ctx.path().join("Dockerfile"),
        "FROM local/glewlwyd:2.7.5\nENTRYPOINT [\"sh\", \"-c\", \"echo this provider is broken >&2; exit 3\"]\n",
    )
    .unwrap();
    ccci_testkit::docker(&["build", "-q", "-t", broken, ctx.path().to_str().unwrap()]);
    let releases = tempfile::tempdir().unwrap();
    release(releases.path(), "1.0.1+2.7.5", broken);
    let outcome = p
        .upgrade(
            None,
            Some(releases.path()),
            Deadline::after(Duration::from_secs(240)),
        )
        .await
        .unwrap();
    let Upgrade::RolledBack {
        attempted,
        last_good,
        why,
    } = outcome
    else {
        panic!("not rolled back: {outcome:?}");
    };
    assert_eq!(
        (attempted.to_string(), last_good.to_string()),
        ("1.0.1+2.7.5".into(), "1.0.0+2.7.5".into())
    );
    assert!(why.contains("down"), "{why}");
    let status = p.status(dl()).await.unwrap();
    assert_eq!(status.deployed.unwrap().to_string(), "1.0.0+2.7.5");
    assert_eq!(status.last_good.unwrap().to_string(), "1.0.0+2.7.5");
    assert_eq!(status.unhealthy, None);
    assert_eq!(status.realms, std::slice::from_ref(&live.name));
    // The live run's realm is intact: the same issuer signs its user in again.
    let tok = token(&p, &live).await.unwrap();
    assert_eq!(
        claims(tok["id_token"].as_str().unwrap())["iss"],
        live.issuer.as_str()
    );

    // A healthy upgrade keeps the realm too, and moves last_good.
    release(releases.path(), "1.0.2+2.7.5", "local/glewlwyd:2.7.5");
    let outcome = p.upgrade(None, Some(releases.path()), dl()).await.unwrap();
    assert!(
        matches!(&outcome, Upgrade::Upgraded { to, .. } if to.to_string() == "1.0.2+2.7.5"),
        "{outcome:?}"
    );
    token(&p, &live).await.unwrap();
    assert_eq!(
        p.status(dl()).await.unwrap().last_good.unwrap().to_string(),
        "1.0.2+2.7.5"
    );
    remove(&p).await;
    ccci_testkit::docker(&["image", "rm", broken]);
}

trait JsonText {
    async fn json_text(self) -> Value;
}

impl JsonText for reqwest::Response {
    async fn json_text(self) -> Value {
        serde_json::from_str(&self.text().await.unwrap()).unwrap()
    }
}
